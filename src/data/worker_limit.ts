// How many data worker threads a loader may start on this machine: four per CPU (at least 8). Each
// thread holds its own V8 heap and decoder (tens of MB), so `--workers 100000` would exhaust memory
// long before it helped. A module of its own so that option parsers can use it without loading the
// loader.
import { availableParallelism } from 'node:os';

export function maxWorkers(): number {
  return Math.max(8, 4 * availableParallelism());
}

/** A `--workers` value: a non-negative integer within the limit, or the one-line reason it is not. */
export function workersProblem(n: number): string | null {
  if (!Number.isInteger(n) || n < 0) return `expected a non-negative integer, got '${n}'`;
  if (n > maxWorkers()) return `at most ${maxWorkers()} data worker threads on this machine, got ${n}`;
  return null;
}
