// linear: x [M, K] · weightᵀ (weight [N, K]) + bias [N] → y [M, N], optional fused ReLU.
import type { LinearGeometry, Storage } from '../backend/backend.js';
import { makeResult, shapeStr, type Tensor } from '../tensor.js';
import { backendOf } from './util.js';

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null, opts: { relu?: boolean } = {}): Tensor {
  const backend = backendOf('linear', x, weight, bias);
  if (x.shape.length !== 2) throw new Error(`linear: expected a 2-D input [N, features], got ${shapeStr(x.shape)}`);
  if (weight.shape.length !== 2 || weight.shape[1] !== x.shape[1]) {
    throw new Error(`linear: input ${shapeStr(x.shape)} has ${x.shape[1]} features, weight ${shapeStr(weight.shape)} expects ${weight.shape[1]}`);
  }
  const g: LinearGeometry = { m: x.shape[0], k: x.shape[1], n: weight.shape[0] };
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== g.n)) {
    throw new Error(`linear: bias ${shapeStr(bias.shape)} does not match ${g.n} outputs`);
  }
  const relu = opts.relu ?? false;
  const y = backend.linear(x.storage, weight.storage, bias ? bias.storage : null, g, relu);
  const yShape = [g.m, g.n];
  const out: Tensor = makeResult(y, yShape, backend, [x, weight, bias], () => ({
    name: relu ? 'linear_relu' : 'linear',
    inputs: [x, weight, bias],
    backward(gyIn: Storage) {
      const gy = relu ? backend.reluBackward(gyIn, out.storage, yShape) : gyIn;
      const gx = x.requiresGrad ? backend.linearBackwardData(gy, weight.storage, g) : null;
      let gw: Storage | null = null;
      let gb: Storage | null = null;
      if (weight.requiresGrad || (bias && bias.requiresGrad)) {
        const r = backend.linearBackwardWeights(gy, x.storage, g, bias !== null);
        gw = r.gw;
        gb = r.gb;
      }
      if (relu) backend.dispose(gy);
      return [gx, gw, gb];
    },
    release() {},
  }));
  return out;
}
