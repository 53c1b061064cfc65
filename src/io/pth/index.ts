// PyTorch .pth/.pt files on Node: the safe reader (both torch.save containers) and the zip writer
// on paths as well as bytes. The readers themselves are platform-neutral (reader.ts, writer.ts);
// this file opens and writes the files.
import { readFileAt } from '../file_source.js';
import { lazyFloat32Tensor } from '../lazy_tensor.js';
import { writeFileAtomic } from '../write_atomic.js';
import type { TensorMap } from '../tensor_map.js';
import { parsePth as parsePthSource, readPth as readPthSource, type PthObject } from './reader.js';
import { encodePth } from './writer.js';

export { findStateDict, type PthFormat, type PthObject } from './reader.js';
export { encodePth } from './writer.js';

/** How readPth reads a file: `lazy` leaves its float32 tensors in the file (see NamedTensor). */
export interface ReadPthOptions {
  lazy?: boolean;
}

/** Parses a torch.save file (a path or its bytes) into its top-level object, every storage's bytes read. */
export function parsePth(source: string | Uint8Array, name?: string): PthObject {
  if (typeof source !== 'string') return parsePthSource(source, name);
  return readFileAt(source, (file) => parsePthSource(file, source));
}

/**
 * Reads a .pth/.pt file's (or bytes') state dict as float32 tensors. A file is read at offsets,
 * never whole; with `lazy`, its whole float32 tensors stay in the file until they are used or
 * streamed into a model (see reader.ts).
 */
export function readPth(source: string | Uint8Array, name?: string, opts: ReadPthOptions = {}): TensorMap {
  if (typeof source !== 'string') return readPthSource(source, name);
  return readFileAt(source, (file) =>
    readPthSource(file, source, {
      lazy: opts.lazy
        ? (shape, span) =>
            lazyFloat32Tensor(shape, { path: source, fileSize: file.size, offset: span.offset, byteLength: span.byteLength }, span.check)
        : undefined,
    }),
  );
}

/** Writes a state dict as a torch.save zip file that torch.load(weights_only=True) reads. */
export function writePth(path: string, tensors: TensorMap | Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  writeFileAtomic(path, encodePth(tensors));
}
