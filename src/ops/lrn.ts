// local_response_norm across channels with PyTorch's semantics (alpha is divided by size):
// y_c = x_c / (k + alpha/size · Σ_{c' near c} x_{c'}²)^beta, zero-padded at the channel edges.
import type { LrnParams } from '../backend/backend.js';
import { ShapeError, UsageError } from '../errors.js';
import { isGradEnabled, makeResult, shapeText, type Tensor } from '../tensor.js';

export function localResponseNorm(x: Tensor, size: number, alpha = 1e-4, beta = 0.75, k = 1): Tensor {
  if (x.shape.length !== 4) throw new ShapeError(`local_response_norm: expected [N, C, H, W], got ${shapeText(x.shape)}`);
  if (!Number.isInteger(size) || size < 1) throw new UsageError(`local_response_norm: size must be a positive integer, got ${size}`);
  const backend = x.backend;
  const p: LrnParams = { size, alpha, beta, k };
  const { y, workspace } = backend.lrn(x.storage, x.shape, p, isGradEnabled() && x.requiresGrad);
  const out: Tensor = makeResult(
    y,
    x.shape,
    backend,
    [x],
    () => ({
      name: 'local_response_norm',
      inputs: [x],
      backward: (gy) => [backend.lrnBackward(gy, x.storage, out.storage, workspace, x.shape, p)],
      release() {
        if (workspace) backend.dispose(workspace);
      },
    }),
    workspace ? [workspace] : [],
  );
  return out;
}
