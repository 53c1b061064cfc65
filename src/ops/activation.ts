// relu: y = max(x, 0); the gradient passes where y > 0.
import { makeResult, type Tensor } from '../tensor.js';

export function relu(x: Tensor): Tensor {
  const backend = x.backend;
  const y = backend.relu(x.storage, x.shape);
  const out: Tensor = makeResult(y, x.shape, backend, [x], () => ({
    name: 'relu',
    inputs: [x],
    backward: (gy) => [backend.reluBackward(gy, out.storage, x.shape)],
    release() {},
  }));
  return out;
}
