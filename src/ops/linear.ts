// linear: x [M, K] · weightᵀ (weight [N, K]) + bias [N] → y [M, N], optional fused ReLU.
import type { LinearGeometry, Storage } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { makeResult, shapeText, type Tensor } from '../tensor.js';
import { backendOf, weightLayerBackward } from './util.js';

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
  const y = backend.linear(x.storage, weight.storage, bias ? bias.storage : null, g, relu);
  const yShape = [g.m, g.n];
  const out: Tensor = makeResult(y, yShape, backend, [x, weight, bias], () => ({
    name: relu ? 'linear_relu' : 'linear',
    inputs: [x, weight, bias],
    backward: (gy: Storage) =>
      weightLayerBackward(
        backend,
        gy,
        out,
        relu,
        x,
        weight,
        bias,
        (d) => backend.linearBackwardData(d, weight.storage, g),
        (d) => backend.linearBackwardWeights(d, x.storage, g, bias !== null),
      ),
    release() {},
  }));
  return out;
}
