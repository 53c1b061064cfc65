// Reductions: sum and mean over one axis or over everything (a scalar tensor of shape []).
import { ShapeError } from '../errors.js';
import { numel } from '../shape.js';
import { makeResult, shapeText, type Tensor } from '../tensor.js';
import { mulScalar } from './elementwise.js';

/** How many elements each output sums: all of them, or the length of `axis` (checked). */
function reducedLength(x: Tensor, axis: number | null): number {
  if (axis === null) return x.size;
  const len = Number.isInteger(axis) ? x.shape[axis] : undefined;
  if (len === undefined) throw new ShapeError(`sum: axis ${axis} out of range for ${shapeText(x.shape)}`);
  return len;
}

export function sum(x: Tensor, axis: number | null = null): Tensor {
  const be = x.backend;
  const len = reducedLength(x, axis);
  const outShape = axis === null ? [] : x.shape.filter((_, i) => i !== axis);
  // Elements after the reduced axis (all of them reduced when axis is null: one block of len).
  const inner = axis === null ? 1 : numel(x.shape.slice(axis + 1));
  const y = be.sum(x.storage, x.shape, axis);
  return makeResult(y, outShape, be, [x], () => ({
    name: 'sum',
    inputs: [x],
    backward(gy) {
      // Broadcast gy back over the reduced axis.
      const g = be.toArray(gy, outShape);
      const out = x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size);
      for (let i = 0; i < out.length; i++) {
        const o = Math.floor(i / (inner * len));
        out[i] = g[o * inner + (i % inner)]!;
      }
      return [be.fromArray(out, x.shape)];
    },
    release() {},
  }));
}

export function mean(x: Tensor, axis: number | null = null): Tensor {
  return mulScalar(sum(x, axis), 1 / reducedLength(x, axis));
}
