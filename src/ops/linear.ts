// linear: x [M, K] · weightᵀ (weight [N, K]) + bias [N] → y [M, N], optional fused ReLU.
import type { LinearGeometry } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { isGradEnabled, shapeText, type Tensor } from '../tensor.js';
import { backendOf, weightLayerResult } from './util.js';

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, opts: { relu?: boolean } = {}): Tensor {
  const backend = backendOf('linear', x, weight, bias);
  const [m, k, ...xRest] = x.shape;
  if (m === undefined || k === undefined || xRest.length)
    throw new ShapeError(`linear: expected a 2-D input [N, features], got ${shapeText(x.shape)}`);
  const [n, wk, ...wRest] = weight.shape;
  if (n === undefined || wk !== k || wRest.length) {
    throw new ShapeError(`linear: input ${shapeText(x.shape)} has ${k} features, weight ${shapeText(weight.shape)} expects ${wk}`);
  }
  const g: LinearGeometry = { m, k, n };
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== g.n)) {
    throw new ShapeError(`linear: bias ${shapeText(bias.shape)} does not match ${g.n} outputs`);
  }
  const relu = opts.relu ?? false;
  const training = isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad);
  const y = backend.linear(x.storage, weight.storage, bias ? bias.storage : null, g, relu, training);
  return weightLayerResult('linear', y, [g.m, g.n], relu, [x, weight, bias], {
    data: (gy) => backend.linearBackwardData(gy, weight.storage, g),
    weights: (gy) => backend.linearBackwardWeights(gy, x.storage, g, bias !== null),
  });
}
