// View ops: reshape (one dimension may be -1) and flatten(startDim), as in torch.flatten.
import { ShapeError } from '../errors.js';
import { checkShape, flattenedShape, numel, shapeText } from '../shape.js';
import { makeResult, type Tensor } from '../tensor.js';

/** The shape `shape` stands for when viewing a tensor of shape `from`: its -1 (at most one) filled in. */
function viewShape(from: readonly number[], shape: readonly number[]): number[] {
  const size = numel(from);
  const cannot = () => new ShapeError(`reshape: cannot view ${shapeText(from)} (${size} elements) as ${shapeText(shape)}`);
  const free = shape.indexOf(-1);
  if (free >= 0 && shape.indexOf(-1, free + 1) >= 0) throw cannot();
  const target = [...shape];
  if (free >= 0) {
    const known = shape.filter((_, i) => i !== free);
    checkShape(known, `reshape to ${shapeText(shape)}`);
    const knownCount = numel(known);
    if (knownCount === 0 || size % knownCount !== 0) throw cannot();
    target[free] = size / knownCount;
  }
  checkShape(target, 'reshape');
  if (numel(target) !== size) throw cannot();
  return target;
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = viewShape(x.shape, shape);
  const backend = x.backend;
  const y = backend.reshape(x.storage, x.shape, target);
  return makeResult(y, target, backend, [x], () => ({
    name: 'reshape',
    inputs: [x],
    backward: (gy) => [backend.reshape(gy, target, x.shape)],
    release() {},
  }));
}

/** Flattens dimensions startDim.. into one: [N, C, H, W] → [N, C·H·W] for startDim 1. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  if (!Number.isInteger(startDim) || startDim < 0 || startDim >= Math.max(1, x.shape.length))
    throw new ShapeError(`flatten: startDim ${startDim} out of range for ${shapeText(x.shape)}`);
  return reshape(x, flattenedShape(x.shape, startDim));
}
