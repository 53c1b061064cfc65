// safetensors files on Node: reading a path (at offsets, never whole; lazily on request) or bytes,
// and writing atomically. The format itself is platform-neutral: safetensors_format.ts.
import { readFileAt } from './file_source.js';
import { lazyFloat32Tensor } from './lazy_tensor.js';
import { encodeSafetensors, readSafetensors as readSafetensorsSource, type SafetensorsContents } from './safetensors_format.js';
import { writeFileAtomic } from './write_atomic.js';

export { encodeSafetensors, parseSafetensors, type SafetensorsContents } from './safetensors_format.js';

/** How readSafetensors reads a file: `lazy` leaves its float32 tensors in the file (see tensor_map.ts). */
export interface ReadSafetensorsOptions {
  lazy?: boolean;
}

/**
 * Reads a safetensors file or buffer. A file is read at offsets (header first, then each tensor),
 * never whole; with `lazy`, its float32 tensors stay in the file as lazy entries, streamed into a
 * model chunk by chunk.
 */
export function readSafetensors(source: string | Uint8Array, name?: string, opts: ReadSafetensorsOptions = {}): SafetensorsContents {
  if (typeof source !== 'string') return readSafetensorsSource(source, name);
  return readFileAt(source, (file) =>
    readSafetensorsSource(file, source, {
      lazy: opts.lazy ? (shape, span) => lazyFloat32Tensor(shape, { path: source, fileSize: file.size, ...span }) : undefined,
    }),
  );
}

export function writeSafetensors(
  path: string,
  tensors: Map<string, { shape: readonly number[]; data: Float32Array | Int8Array }>,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
