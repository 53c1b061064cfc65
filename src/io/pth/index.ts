// PyTorch .pth/.pt files: the safe reader (both torch.save containers) and the zip writer.
import { renameSync, openSync, writeSync, fsyncSync, closeSync, rmSync } from 'node:fs';
import { DataError } from '../../errors.js';
import type { TensorMap } from '../tensor_map.js';
import { encodePth } from './writer.js';

export { parsePth, readPth, findStateDict, type PthFormat, type PthObject, type ReadPthOptions } from './reader.js';
export { encodePth } from './writer.js';

/**
 * Writes chunks to `path` atomically (temporary file, fsync, rename). A failure (no space, no
 * such folder, `path` a directory) is a DataError naming the file and leaves no temporary file.
 */
export function writeChunksAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) writeSync(fd, c);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new DataError(`${path}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Writes a state dict as a torch.save zip file that torch.load(weights_only=True) reads. */
export function writePth(path: string, tensors: TensorMap | Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  writeChunksAtomic(path, encodePth(tensors));
}
