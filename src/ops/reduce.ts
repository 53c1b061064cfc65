// Reductions: sum and mean over one axis or over everything (a scalar tensor of shape []).
import type { Storage } from '../backend/backend.js';
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

/**
 * gy (x's shape less the reduced axis) repeated along that axis, as storage of x's shape, made by
 * a backend op so that nothing is read back (a GPU read on webgpu, a sync point on native): an
 * adaptive average pool from [1, outer, 1, inner] up to [1, outer, len, inner], every window of
 * which holds exactly one element of gy, whose mean is that element (NaN and infinities included).
 */
function broadcastBack(x: Tensor, gy: Storage, len: number, inner: number): Storage {
  const be = x.backend;
  if (x.size === 0) return be.full(x.shape, 0, x.dtype);
  const outer = x.size / (len * inner);
  const g = be.adaptiveAvgPool2d(gy, { n: 1, c: outer, h: 1, w: inner, oh: len, ow: inner });
  return be.reshape(g, [1, outer, len, inner], x.shape);
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
      return [broadcastBack(x, gy, len, inner)];
    },
    release() {},
  }));
}

export function mean(x: Tensor, axis: number | null = null): Tensor {
  return mulScalar(sum(x, axis), 1 / reducedLength(x, axis));
}
