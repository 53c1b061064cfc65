// Float32 tensors left in their file: NamedTensor entries (see tensor_map.ts) whose values are a
// byte range of the file, streamed by reopening it and reading the range in 1 MiB chunks into
// one reused buffer — so that a model loads a file holding more than its free memory allows
// twice. The range was checked against the file when its header was read; the file must still
// have the same size, and an optional check (a zip entry's CRC-32) runs over the chunks.
import { closeSync, openSync } from 'node:fs';
import { DataError } from '../errors.js';
import { fileSource } from './file_source.js';
import { chunkedFloat32Tensor } from './lazy_bytes.js';
import type { NamedTensor, RangeCheck } from './tensor_map.js';

/** Bytes per read (a multiple of 8, so any element type's values stay whole). */
export const STREAM_CHUNK_BYTES = 1 << 20;

/**
 * The one chunk buffer every stream reuses, so that streaming many tensors leaves no trail of
 * dead buffers waiting for the garbage collector; a stream started while it is in use (from
 * inside another's callback) gets a buffer of its own.
 */
let sharedChunk: Uint8Array | null = null;
let sharedChunkInUse = false;

/** Where a lazy tensor's values lie: `byteLength` bytes at `offset` of the `fileSize`-byte file `path`. */
export interface FileRange {
  path: string;
  fileSize: number;
  offset: number;
  byteLength: number;
}

/**
 * Reads a range of a file chunk by chunk, calling `each(byteOffset, bytes)` per chunk (the view is
 * valid during the call only). A file that is gone, unreadable or changed in size is a DataError
 * naming it; so is a failed `check` — after `each` has seen the bad bytes, so callers must not use
 * what they wrote when this throws.
 */
export function streamFileRange(range: FileRange, each: (byteOffset: number, bytes: Uint8Array) => void, check?: RangeCheck): void {
  const { path } = range;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as Error).message})`);
  }
  const shared = !sharedChunkInUse;
  sharedChunkInUse = true;
  try {
    const file = fileSource(fd, path);
    if (file.size !== range.fileSize)
      throw new DataError(`${path}: file changed while being read (${range.fileSize} bytes, now ${file.size})`);
    const buf = shared ? (sharedChunk ??= new Uint8Array(STREAM_CHUNK_BYTES)) : new Uint8Array(STREAM_CHUNK_BYTES);
    for (let done = 0; done < range.byteLength;) {
      const n = Math.min(buf.length, range.byteLength - done);
      const bytes = file.read(range.offset + done, n, buf.subarray(0, n));
      check?.update(bytes);
      each(done, bytes);
      done += n;
    }
    check?.finish();
  } catch (err) {
    if (err instanceof DataError || !(err as NodeJS.ErrnoException).code) throw err;
    throw new DataError(`${path}: cannot read (${(err as Error).message})`);
  } finally {
    closeSync(fd);
    if (shared) sharedChunkInUse = false;
  }
}

/**
 * A lazy entry for the little-endian float32 values in `range` (byteLength = 4 × the values):
 * `readChunks` streams them, `data` reads them all on first use and keeps them.
 */
export function lazyFloat32Tensor(shape: number[], range: FileRange, makeCheck?: () => RangeCheck): NamedTensor {
  const length = range.byteLength / 4;
  const readChunks = (each: (offset: number, values: Float32Array) => void): void =>
    streamFileRange(range, (at, bytes) => each(at / 4, new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)), makeCheck?.());
  return chunkedFloat32Tensor(shape, length, readChunks);
}
