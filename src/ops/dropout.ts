// Inverted dropout: in training, zero each element with probability p and scale the rest by
// 1/(1-p); in eval, the identity. The mask is drawn from a seed taken from `rng`.
import { UsageError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { makeResult, type Tensor } from '../tensor.js';

export function dropout(x: Tensor, p: number, training: boolean, rng: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new UsageError(`dropout: probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const backend = x.backend;
  const { y, mask } = backend.dropout(x.storage, x.shape, p, rng.nextUint32());
  return makeResult(
    y,
    x.shape,
    backend,
    [x],
    () => ({
      name: 'dropout',
      inputs: [x],
      backward: (gy) => [backend.binary('mul', gy, mask, x.shape)],
      release: () => backend.dispose(mask),
    }),
    [mask],
  );
}
