// Sum reductions: over one axis of a row-major tensor (the axis is dropped from the shape) or
// over all elements (shape []). Accumulates in float64, stores in the input's dtype.
import type { FloatArray, Shape } from '../backend.js';
import { allocLike, numel } from './storage.js';
import { ShapeError } from '../../errors.js';

/** x [outer, len, inner] summed over the middle axis → [outer, inner]; axis null → [1]. */
export function sumKernel(x: FloatArray, shape: Shape, axis: number | null): FloatArray {
  if (axis === null) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]!;
    const y = allocLike(x, 1);
    y[0] = s;
    return y;
  }
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new ShapeError(`reference backend: sum axis ${axis} is out of range for shape [${shape.join(', ')}]`);
  }
  const outer = numel(shape.slice(0, axis));
  const len = shape[axis]!;
  const inner = numel(shape.slice(axis + 1));
  const y = allocLike(x, outer * inner);
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let l = 0; l < len; l++) {
      const base = (o * len + l) * inner;
      for (let i = 0; i < inner; i++) acc[i]! += x[base + i]!;
    }
    y.set(acc, o * inner);
  }
  return y;
}
