// Pooling: max_pool2d (overlapping 3/2 in AlexNet, padding, ceil mode) and
// adaptive_avg_pool2d (torchvision's 6×6 before the classifier). x [N, C, H, W].
import { adaptivePoolGeometry, pair, poolGeometry, type Pair } from '../backend/conv_util.js';
import { isGradEnabled, makeResult, type Tensor } from '../tensor.js';

export interface MaxPool2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  ceilMode?: boolean;
}

export function maxPool2d(x: Tensor, kernelSize: number | Pair, opts: MaxPool2dOptions = {}): Tensor {
  const backend = x.backend;
  const k = pair(kernelSize);
  const g = poolGeometry(x.shape, k, pair(opts.stride ?? k), pair(opts.padding ?? 0), opts.ceilMode ?? false);
  const training = isGradEnabled() && x.requiresGrad;
  const { y, workspace } = backend.maxPool2d(x.storage, g, training);
  return makeResult(
    y,
    [g.n, g.c, g.oh, g.ow],
    backend,
    [x],
    () => ({
      name: 'max_pool2d',
      inputs: [x],
      backward: (gy) => [backend.maxPool2dBackward(gy, x.storage, workspace, g)],
      release() {
        if (workspace) backend.dispose(workspace);
      },
    }),
    workspace ? [workspace] : [],
  );
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: number | Pair): Tensor {
  const backend = x.backend;
  const g = adaptivePoolGeometry(x.shape, pair(outputSize));
  const y = backend.adaptiveAvgPool2d(x.storage, g);
  return makeResult(y, [g.n, g.c, g.oh, g.ow], backend, [x], () => ({
    name: 'adaptive_avg_pool2d',
    inputs: [x],
    backward: (gy) => [backend.adaptiveAvgPool2dBackward(gy, g)],
    release() {},
  }));
}
