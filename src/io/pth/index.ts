// PyTorch .pth/.pt files: the safe reader (both torch.save containers) and the zip writer.
import { renameSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import type { TensorMap } from '../tensor_map.js';
import { encodePth } from './writer.js';

export { parsePth, readPth, findStateDict, type PthFormat, type PthObject } from './reader.js';
export { encodePth } from './writer.js';

/** Writes chunks to `path` atomically (temporary file, fsync, rename). */
export function writeChunksAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes a state dict as a torch.save zip file that torch.load(weights_only=True) reads. */
export function writePth(path: string, tensors: TensorMap | Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  writeChunksAtomic(path, encodePth(tensors));
}
