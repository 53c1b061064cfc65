// Reductions: sum and mean over one axis or over everything (a scalar tensor of shape []).
import { makeResult, shapeText, type Tensor } from '../tensor.js';
import { mulScalar } from './elementwise.js';

export function sum(x: Tensor, axis: number | null = null): Tensor {
  const be = x.backend;
  if (axis !== null && (axis < 0 || axis >= x.shape.length)) throw new Error(`sum: axis ${axis} out of range for ${shapeText(x.shape)}`);
  const outShape = axis === null ? [] : x.shape.filter((_, i) => i !== axis);
  const y = be.sum(x.storage, x.shape, axis);
  return makeResult(y, outShape, be, [x], () => ({
    name: 'sum',
    inputs: [x],
    backward(gy) {
      // Broadcast gy back over the reduced axis.
      const g = be.toArray(gy, outShape);
      const out = x.dtype === 'float64' ? new Float64Array(x.size) : new Float32Array(x.size);
      if (axis === null) out.fill(g[0]);
      else {
        const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const len = x.shape[axis];
        for (let i = 0; i < out.length; i++) {
          const o = Math.floor(i / (inner * len));
          out[i] = g[o * inner + (i % inner)];
        }
      }
      return [be.fromArray(out, x.shape)];
    },
    release() {},
  }));
}

export function mean(x: Tensor, axis: number | null = null): Tensor {
  const count = axis === null ? x.size : x.shape[axis];
  return mulScalar(sum(x, axis), 1 / count);
}
