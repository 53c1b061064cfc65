// The format-neutral result of reading a weights file: tensor name → shape and float32 values
// in C order (converted from the file's dtype), plus the dtype the file stored.
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
  /** The element type in the file ('float32', 'float16', 'bfloat16', 'float64', 'int64', ...). */
  sourceDType: string;
}

export type TensorMap = Map<string, NamedTensor>;

export { numel } from '../shape.js';
