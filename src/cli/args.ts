// Parsers for command-line values shared by the commands; each throws commander's
// InvalidArgumentError, which commander reports naming the option and the value (exit code 2).
import { InvalidArgumentError } from 'commander';
import { workersProblem } from '../data/worker_limit.js';
import { isArchName, type ArchName } from '../models/index.js';
import { ARCHS } from '../models/alexnet.js';

export function parseArch(value: string): ArchName {
  if (!isArchName(value)) throw new InvalidArgumentError(`unknown architecture '${value}' (choose from ${ARCHS.join(', ')})`);
  return value;
}

/** 'C,H,W' → [C, H, W] of positive integers. */
export function parseShape(value: string): number[] {
  const parts = value.split(/[,x×]/).map((s) => s.trim());
  const dims = parts.map(Number);
  if (parts.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InvalidArgumentError(`expected C,H,W as three positive integers (e.g. 3,224,224), got '${value}'`);
  }
  return dims;
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

export function parseNonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${value}'`);
  return n;
}

export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'`);
    return value as T;
  };
}

/** A data-loading worker count: a non-negative integer within this machine's limit. */
export function parseWorkers(value: string): number {
  const problem = workersProblem(Number(value));
  if (problem !== null || value.trim() === '') throw new InvalidArgumentError(problem ?? `expected a non-negative integer, got '${value}'`);
  return Number(value);
}
