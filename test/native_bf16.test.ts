// bf16 mode of the native backend against the f32 reference. Convolutions and inner products
// round src, weights and the output gradient to bf16 (8 significant bits: relative rounding error
// ≤ 2^-9 ≈ 0.2% per operand) and accumulate in f32, so one output element's relative error is a
// few 0.1% and, measured as max|diff| / max|ref| over a tensor, stays below 1%; the tolerance is
// 2e-2. Weight gradients sum N·OH·OW products with cancelling signs, so they get 3e-2.
// Everything else (pooling, LRN, ReLU, SGD) stays f32, and master weights stay f32.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, ConvGeometry, LinearGeometry, Shape, Storage } from '../src/backend/backend.js';
import { setBackend } from '../src/backend/registry.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { Conv2d, Linear, LocalResponseNorm, MaxPool2d, ReLU, Sequential } from '../src/nn/index.js';
import { crossEntropy, flatten } from '../src/ops/index.js';
import { Tensor } from '../src/tensor.js';
import { convGeometry } from '../src/backend/conv_util.js';
import { assertClose, nativeBf16, pairOf, randomArray, reference, relError, size } from './native_helpers.js';

const skip: string | false = nativeBf16 ? false : 'native bf16 unavailable (addon not built or CPU without native bf16)';
const nb = nativeBf16 as Backend;

for (const [name, xs, ws, stride, pad, groups] of [
  ['5x5 grouped', [4, 32, 13, 13], [64, 16, 5, 5], 1, 2, 2],
  ['3x3', [4, 64, 13, 13], [96, 64, 3, 3], 1, 1, 1],
] as [string, Shape, Shape, number, number, number][]) {
  test(`bf16 conv2d forward/backward: ${name}`, { skip }, () => {
    const g = convGeometry(xs, ws, [stride, stride], [pad, pad], groups);
    const x = pairOf(randomArray(size(xs), 1), xs, nb);
    const w = pairOf(randomArray(size(ws), 2, 0.2), ws, nb);
    const b = pairOf(randomArray(ws[0]!, 3), [ws[0]!], nb);
    const yShape = [g.n, g.oc, g.oh, g.ow];
    const y = nb.conv2d(x.n, w.n, b.n, g, true);
    const yr = reference.conv2d(x.r, w.r, b.r, g, true);
    assertClose('y', nb, y, yr, yShape, 2e-2);
    // The rounding is visible: this really ran in bf16, not f32.
    assert.ok(relError(nb.toArray(y, yShape), reference.toArray(yr, yShape)) > 1e-4, 'bf16 conv gave f32-exact results');
    const gy = pairOf(randomArray(size(yShape), 4), yShape, nb);
    assertClose('dx', nb, nb.conv2dBackwardData(gy.n, w.n, g), reference.conv2dBackwardData(gy.r, w.r, g), xs, 2e-2);
    const gn = nb.conv2dBackwardWeights(gy.n, x.n, g, true);
    const gr = reference.conv2dBackwardWeights(gy.r, x.r, g, true);
    assertClose('dw', nb, gn.gw, gr.gw, ws, 3e-2);
    assertClose('db', nb, gn.gb!, gr.gb!, [ws[0]!], 3e-2);
  });
}

test('bf16 linear forward/backward', { skip }, () => {
  const g = { m: 16, k: 300, n: 40 };
  const x = pairOf(randomArray(g.m * g.k, 10), [g.m, g.k], nb);
  const w = pairOf(randomArray(g.n * g.k, 11, 0.1), [g.n, g.k], nb);
  const b = pairOf(randomArray(g.n, 12), [g.n], nb);
  assertClose('y', nb, nb.linear(x.n, w.n, b.n, g, false), reference.linear(x.r, w.r, b.r, g, false), [g.m, g.n], 2e-2);
  const gy = pairOf(randomArray(g.m * g.n, 13), [g.m, g.n], nb);
  assertClose('dx', nb, nb.linearBackwardData(gy.n, w.n, g), reference.linearBackwardData(gy.r, w.r, g), [g.m, g.k], 2e-2);
  const gn = nb.linearBackwardWeights(gy.n, x.n, g, true);
  const gr = reference.linearBackwardWeights(gy.r, x.r, g, true);
  assertClose('dw', nb, gn.gw, gr.gw, [g.n, g.k], 3e-2);
});

test('bf16 keeps f32 master weights: small SGD updates are not lost to bf16 rounding', { skip }, () => {
  const n = 256;
  const w = nb.fromArray(new Float32Array(n).fill(1), [n]);
  const grad = nb.fromArray(new Float32Array(n).fill(1), [n]);
  // 1 - 1e-4 is not representable in bf16 (spacing 2^-8 near 1); in f32 it is.
  for (let i = 0; i < 10; i++)
    nb.sgdStep(w, grad, null, n, { lr: 1e-4, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, i === 0);
  const got = nb.toArray(w, [n]);
  assert.ok(Math.abs(got[0]! - (1 - 1e-3)) < 1e-6, `weight ${got[0]}`);
});

/** The reference backend with bf16 rounding (round-to-nearest-even) of every conv/inner-product operand. */
class Bf16EmulatedReference extends ReferenceBackend {
  private round(s: Storage): Storage {
    const a = Float32Array.from(reference.toArray(s, [s.size]));
    const bits = new Uint32Array(a.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i]! + 0x7fff + ((bits[i]! >>> 16) & 1)) & 0xffff0000) >>> 0;
    return reference.fromArray(a, [a.length]);
  }
  override conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean): Storage {
    return super.conv2d(this.round(x), this.round(w), b, g, relu);
  }
  override conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    return super.conv2dBackwardData(this.round(gy), this.round(w), g);
  }
  override conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    return super.conv2dBackwardWeights(this.round(gy), this.round(x), g, withBias);
  }
  override linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean): Storage {
    return super.linear(this.round(x), this.round(w), b, g, relu);
  }
  override linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    return super.linearBackwardData(this.round(gy), this.round(w), g);
  }
  override linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    return super.linearBackwardWeights(this.round(gy), this.round(x), g, withBias);
  }
}

/** Loss and every parameter gradient of a small two-tower AlexNet-like net on `be`. */
function smallNetGrads(be: Backend): { loss: number; grads: Map<string, Float32Array> } {
  setBackend(be);
  try {
    const features = new Sequential(
      new Conv2d(3, 16, 7, { stride: 2 }),
      new ReLU(),
      new LocalResponseNorm(5, 1e-3, 0.75, 2),
      new MaxPool2d(3, 2),
      new Conv2d(16, 32, 3, { padding: 1, groups: 2 }),
      new ReLU(),
      new MaxPool2d(3, 2),
    );
    const classifier = new Sequential(new Linear(32 * 3 * 3, 24), new ReLU(), new Linear(24, 5));
    const net = new Sequential(features, classifier);
    // The same parameters on every backend.
    net.loadStateDict(new Map(net.namedParameters().map(([n, p], i) => [n, Tensor.fromArray(randomArray(p.size, 200 + i, 0.3), p.shape)])));
    const params = net.namedParameters();
    const x = Tensor.fromArray(randomArray(4 * 3 * 35 * 35, 300), [4, 3, 35, 35]);
    const loss = crossEntropy(classifier.forward(flatten(features.forward(x), 1)), [0, 1, 2, 3]);
    loss.backward();
    return { loss: loss.item(), grads: new Map(params.map(([n, p]) => [n, Float32Array.from(p.grad!.toArray())])) };
  } finally {
    setBackend('reference');
  }
}

test('bf16 network gradients equal the reference backend with bf16-rounded operands', { skip }, () => {
  const want = smallNetGrads(new Bf16EmulatedReference());
  const got = smallNetGrads(nb);
  assert.ok(Math.abs(got.loss - want.loss) < 1e-3 * Math.abs(want.loss), `loss ${got.loss} vs ${want.loss}`);
  for (const [name, g] of want.grads) {
    const err = relError(got.grads.get(name)!, g);
    assert.ok(err < 1e-2, `${name}: relative error ${err.toExponential(2)} against emulated bf16`);
  }
});
