// conv2d: x [N, C, H, W] ⊛ weight [OC, C/groups, KH, KW] + bias [OC] → y [N, OC, OH, OW],
// with an optional fused ReLU. Backward gives the input gradient only when x needs one (conv1's
// input gradient is never computed in training).
import { convGeometry, pair, type Pair } from '../backend/conv_util.js';
import { ShapeError } from '../errors.js';
import { isGradEnabled, shapeText, type Tensor } from '../tensor.js';
import { backendOf, weightLayerResult } from './util.js';

export interface Conv2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  groups?: number;
  /** Apply ReLU to the output in the same kernel. */
  relu?: boolean;
}

export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const backend = backendOf('conv2d', x, weight, bias);
  const g = convGeometry(x.shape, weight.shape, pair(opts.stride ?? 1), pair(opts.padding ?? 0), opts.groups ?? 1);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== g.oc)) {
    throw new ShapeError(`conv2d: bias ${shapeText(bias.shape)} does not match ${g.oc} output channels`);
  }
  const relu = opts.relu ?? false;
  const training = isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad);
  const y = backend.conv2d(x.storage, weight.storage, bias ? bias.storage : null, g, relu, training);
  return weightLayerResult('conv2d', y, [g.n, g.oc, g.oh, g.ow], relu, [x, weight, bias], {
    data: (gy) => backend.conv2dBackwardData(gy, weight.storage, g),
    weights: (gy) => backend.conv2dBackwardWeights(gy, x.storage, g, bias !== null),
  });
}
