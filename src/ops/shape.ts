// View ops: reshape (one dimension may be -1) and flatten(startDim), as in torch.flatten.
import { makeResult, shapeText, numel, type Tensor } from '../tensor.js';

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const free = shape.indexOf(-1);
  const target = [...shape];
  if (free >= 0) {
    const known = numel(shape.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot view ${shapeText(x.shape)} as ${shapeText(shape)}`);
    target[free] = x.size / known;
  }
  if (numel(target) !== x.size || target.some((d) => d < 0 || !Number.isInteger(d))) {
    throw new Error(`reshape: cannot view ${shapeText(x.shape)} (${x.size} elements) as ${shapeText(shape)}`);
  }
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
  if (startDim < 0 || startDim >= Math.max(1, x.shape.length))
    throw new Error(`flatten: startDim ${startDim} out of range for ${shapeText(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, startDim), numel(x.shape.slice(startDim))]);
}
