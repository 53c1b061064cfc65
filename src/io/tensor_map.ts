// The format-neutral result of reading a weights file: tensor name → shape and float32 values
// in C order (converted from the file's dtype), plus the dtype the file stored. A reader may
// leave a tensor in the file (a lazy entry): its values are read on first access of `data`, or
// streamed in chunks by `readChunks` without ever being held whole (how models are loaded).
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
  /** The element type in the file ('float32', 'float16', 'bfloat16', 'float64', 'int64', ...). */
  sourceDType: string;
  /** Lazy entries: how many values `data` holds, known without reading them. */
  readonly length?: number;
  /** Lazy entries: calls `each` with consecutive runs of the values (views valid during the call only). */
  readonly readChunks?: (each: (offset: number, values: Float32Array) => void) => void;
}

export type TensorMap = Map<string, NamedTensor>;

/** Checks run over a lazy entry's bytes as they stream: `update` each chunk, then `finish` (throws a DataError). */
export interface RangeCheck {
  update(bytes: Uint8Array): void;
  finish(): void;
}

/** The number of values an entry holds, without reading a lazy entry's values. */
export function valueCount(t: { readonly data: Float32Array; readonly length?: number }): number {
  return t.length ?? t.data.length;
}

export { numel } from '../shape.js';
