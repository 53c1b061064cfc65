// relu: y = max(x, 0); the gradient passes where y > 0.
import type { Tensor } from '../tensor.js';
import { sameShapeResult } from './util.js';

export function relu(x: Tensor): Tensor {
  const backend = x.backend;
  return sameShapeResult('relu', x, backend.relu(x.storage, x.shape), (gy, y) => backend.reluBackward(gy, y, x.shape));
}
