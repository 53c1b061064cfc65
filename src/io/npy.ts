// NumPy .npy files on Node: reading a path (or bytes) and writing atomically. The format itself
// is platform-neutral: npy_format.ts.
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';
import { encodeNpy, parseNpy, type NpyArray, type NpyData } from './npy_format.js';
import { writeFileAtomic } from './write_atomic.js';

export { encodeNpy, npyToFloat32, parseNpy, type NpyArray, type NpyData, type NpyDType } from './npy_format.js';

/** Reads a .npy array from a file path or from bytes already in memory. */
export function readNpy(source: string | Uint8Array): NpyArray {
  if (typeof source === 'string') {
    let buf: Buffer;
    try {
      buf = readFileSync(source);
    } catch (err) {
      throw new DataError(`${source}: cannot read (${(err as Error).message})`);
    }
    return parseNpy(buf, source);
  }
  return parseNpy(source);
}

/** Writes an array to `path` as .npy, atomically (see write_atomic.ts). */
export function writeNpy(path: string, data: NpyData, shape: readonly number[]): void {
  writeFileAtomic(path, [encodeNpy(data, shape)]);
}
