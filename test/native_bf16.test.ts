// bf16 mode of the native backend against the f32 reference. Convolutions and inner products
// round src, weights and the output gradient to bf16 (8 significant bits: relative rounding error
// ≤ 2^-9 ≈ 0.2% per operand) and accumulate in f32, so one output element's relative error is a
// few 0.1% and, measured as max|diff| / max|ref| over a tensor, stays below 1%; the tolerance is
// 2e-2. Weight gradients sum N·OH·OW products with cancelling signs, so they get 3e-2.
// Everything else (pooling, LRN, ReLU, SGD) stays f32, and master weights stay f32.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, Shape } from '../src/backend/backend.js';
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
    const b = pairOf(randomArray(ws[0], 3), [ws[0]], nb);
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
    assertClose('db', nb, gn.gb!, gr.gb!, [ws[0]], 3e-2);
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
  for (let i = 0; i < 10; i++) nb.sgdStep(w, grad, null, n, { lr: 1e-4, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, i === 0);
  const got = nb.toArray(w, [n]);
  assert.ok(Math.abs(got[0] - (1 - 1e-3)) < 1e-6, `weight ${got[0]}`);
});
