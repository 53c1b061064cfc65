// Checking JSON that comes from files (model.json, a checkpoint's meta): one object's fields, each
// error a DataError naming the file and the field's path.
import { isAbsolute, relative, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { MAX_IN_CHANNELS } from '../io/model_from_weights.js';

/** Largest image side a stored transform may ask for (input sizes, resizes, crops). */
export const MAX_IMAGE_SIDE = 4096;

/** `s` without C0/C1 control characters (escape sequences, bells, carriage returns). */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks fields of one JSON object, naming `where` and the field's path in every error. */
export class Fields {
  constructor(
    readonly where: string,
    readonly path: string,
  ) {}

  fail(field: string, problem: string): never {
    throw new DataError(`${this.where}: ${this.path}${field} ${problem}`);
  }

  int(field: string, v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v))
      this.fail(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
    if (v < min || v > max) this.fail(field, `${v} is out of range (${min} to ${max})`);
    return v;
  }

  num(field: string, v: unknown, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `must be a number, got ${JSON.stringify(v)}`);
    if (v < min || v > max) this.fail(field, `${v} is out of range (${min} to ${max})`);
    return v;
  }

  nums(field: string, v: unknown, length: [number, number], min: number, max: number): number[] {
    if (!Array.isArray(v) || v.length < length[0] || v.length > length[1])
      this.fail(field, `must be a list of ${length[0] === length[1] ? length[0] : `${length[0]} to ${length[1]}`} numbers`);
    return v.map((x, i) => this.num(`${field}[${i}]`, x, min, max));
  }

  bool(field: string, v: unknown): boolean {
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  obj(field: string, v: unknown): Record<string, unknown> {
    if (!isObject(v)) this.fail(field, 'must be an object');
    return v;
  }

  str(field: string, v: unknown): string {
    if (typeof v !== 'string') this.fail(field, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  size(field: string, v: unknown): number | [number, number] {
    if (Array.isArray(v)) {
      if (v.length !== 2) this.fail(field, 'must be a number or [height, width]');
      return [this.int(`${field}[0]`, v[0], 1, MAX_IMAGE_SIDE), this.int(`${field}[1]`, v[1], 1, MAX_IMAGE_SIDE)];
    }
    return this.int(field, v, 1, MAX_IMAGE_SIDE);
  }

  /** A file name that resolves inside `dir`. */
  fileIn(field: string, v: unknown, dir: string): string {
    const file = this.str(field, v);
    const rel = relative(dir, resolve(dir, file));
    if (file === '' || isAbsolute(file) || rel === '' || rel.startsWith('..') || isAbsolute(rel))
      this.fail(field, `'${printable(file)}' is outside the model's folder`);
    return file;
  }

  shape3(field: string, v: unknown): [number, number, number] {
    if (!Array.isArray(v) || v.length !== 3) this.fail(field, 'must be [channels, height, width]');
    return [
      this.int(`${field}[0]`, v[0], 1, MAX_IN_CHANNELS),
      this.int(`${field}[1]`, v[1], 1, MAX_IMAGE_SIDE),
      this.int(`${field}[2]`, v[2], 1, MAX_IMAGE_SIDE),
    ];
  }
}
