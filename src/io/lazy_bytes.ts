// Float32 tensors left in bytes already in memory (a page's ArrayBuffer): lazy NamedTensor entries
// whose values go from the bytes into a model's parameters a chunk at a time, so that loading
// from memory holds the bytes and the parameters, never a third copy of the weights. The zip
// entry's CRC-32 runs over the chunks on the way (as lazy_tensor.ts does for files on Node): a
// mismatch is found after the values were written, so a caller must drop what it loaded.
import type { NamedTensor, RangeCheck } from './tensor_map.js';

/** Bytes per chunk (a multiple of 4, so that values stay whole). */
const CHUNK_BYTES = 1 << 20;

/** Whether this host's Float32Array reads little-endian bytes as they are (every browser's does). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * A lazy entry for the `byteLength` bytes of little-endian float32 values at `offset` of `bytes`:
 * `readChunks` hands them out as views (copies where the bytes are not 4-byte aligned), `data`
 * reads them all on first use. Only for little-endian hosts (LITTLE_ENDIAN_HOST).
 */
export function lazyBytesTensor(
  shape: number[],
  bytes: Uint8Array,
  span: { offset: number; byteLength: number; check?: () => RangeCheck },
): NamedTensor {
  const length = span.byteLength / 4;
  const readChunks = (each: (offset: number, values: Float32Array) => void): void => {
    const check = span.check?.();
    let aligned: Float32Array | null = null;
    for (let done = 0; done < span.byteLength; done += CHUNK_BYTES) {
      const chunk = bytes.subarray(span.offset + done, span.offset + Math.min(span.byteLength, done + CHUNK_BYTES));
      check?.update(chunk);
      let values: Float32Array;
      if (chunk.byteOffset % 4 === 0) values = new Float32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
      else {
        aligned ??= new Float32Array(CHUNK_BYTES / 4);
        values = aligned.subarray(0, chunk.length / 4);
        new Uint8Array(values.buffer, 0, chunk.length).set(chunk);
      }
      each(done / 4, values);
    }
    check?.finish();
  };
  return chunkedFloat32Tensor(shape, length, readChunks);
}

/**
 * A lazy float32 entry over `readChunks` (which hands out its `length` values in pieces, in order):
 * `data` reads them all on first use and keeps them. Shared with lazy_tensor.ts (values in a file).
 */
export function chunkedFloat32Tensor(
  shape: number[],
  length: number,
  readChunks: (each: (offset: number, values: Float32Array) => void) => void,
): NamedTensor {
  let values: Float32Array | null = null;
  return {
    shape,
    sourceDType: 'float32',
    length,
    readChunks,
    get data(): Float32Array {
      if (values === null) {
        const all = new Float32Array(length);
        readChunks((offset, chunk) => all.set(chunk, offset));
        values = all;
      }
      return values;
    },
    set data(v: Float32Array) {
      values = v;
    },
  };
}
