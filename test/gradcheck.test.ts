// Every op's backward against central finite differences in float64 on the reference backend.
// Kinks are kept away from: ReLU inputs are pushed off zero and max-pool inputs are distinct.
import { describe, test } from 'node:test';
import { referenceBackend } from '../src/backend/registry.js';
import * as ops from '../src/ops/index.js';
import { Generator } from '../src/random.js';
import type { Tensor } from '../src/tensor.js';
import { gradcheck, randomArray } from './helpers.js';

const be = referenceBackend();
const input = (shape: number[], seed: number, scale = 1) => ({
  shape,
  data: randomArray(
    shape.reduce((a, b) => a * b, 1),
    seed,
    scale,
  ),
});
/** Values at least 0.05 away from zero (ReLU's kink). */
const offZero = (shape: number[], seed: number) => {
  const i = input(shape, seed);
  i.data = i.data.map((v) => (Math.abs(v) < 0.05 ? v + Math.sign(v || 1) * 0.1 : v));
  return i;
};
/** A permutation of distinct values, so no max-pool window has a tie. */
const distinct = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Generator(seed).permutation(n);
  return { shape, data: Float64Array.from(perm, (p) => (p - n / 2) / n) };
};

describe('gradcheck: convolution', () => {
  test('conv2d stride 1, no padding', () =>
    gradcheck('conv2d', (x, w, b) => ops.conv2d(x, w, b), [input([2, 3, 6, 5], 1), input([4, 3, 3, 2], 2), input([4], 3)], be));
  test('conv2d stride 2, padding 1, groups 2', () =>
    gradcheck(
      'conv2d g2',
      (x, w, b) => ops.conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 }),
      [input([2, 4, 7, 7], 4), input([6, 2, 3, 3], 5), input([6], 6)],
      be,
    ));
  test('conv2d stride 4, padding 2, k5 (conv1-like)', () =>
    gradcheck(
      'conv2d s4',
      (x, w, b) => ops.conv2d(x, w, b, { stride: 4, padding: 2 }),
      [input([1, 2, 13, 13], 7), input([3, 2, 5, 5], 8), input([3], 9)],
      be,
    ));
  test('conv2d with fused relu', () =>
    gradcheck(
      'conv2d relu',
      (x, w, b) => ops.conv2d(x, w, b, { padding: 1, relu: true }),
      [input([1, 2, 5, 5], 10), input([3, 2, 3, 3], 11), input([3], 12, 0.01)],
      be,
      { rtol: 1e-3 },
    ));
  test('conv2d without bias, asymmetric stride and padding', () =>
    gradcheck(
      'conv2d nobias',
      (x, w) => ops.conv2d(x, w, null, { stride: [1, 2], padding: [2, 0] }),
      [input([1, 2, 5, 6], 13), input([2, 2, 3, 3], 14)],
      be,
    ));
});

describe('gradcheck: activations, pooling, normalisation', () => {
  test('relu', () => gradcheck('relu', (x) => ops.relu(x), [offZero([2, 3, 4], 20)], be));
  test('max_pool2d 3/2 overlapping', () =>
    gradcheck('maxpool', (x) => ops.maxPool2d(x, 3, { stride: 2 }), [distinct([2, 2, 9, 9], 21)], be));
  test('max_pool2d padding 1, ceil mode', () =>
    gradcheck('maxpool ceil', (x) => ops.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [distinct([1, 2, 8, 7], 22)], be));
  test('max_pool2d 2/2 ceil mode with a partial last window', () =>
    gradcheck('maxpool 2', (x) => ops.maxPool2d(x, 2, { stride: 2, ceilMode: true }), [distinct([1, 1, 5, 5], 23)], be));
  test('adaptive_avg_pool2d non-divisible', () =>
    gradcheck('adaptive', (x) => ops.adaptiveAvgPool2d(x, [3, 2]), [input([2, 2, 7, 5], 24)], be));
  test('adaptive_avg_pool2d upsampling (6x6 from 2x2)', () =>
    gradcheck('adaptive up', (x) => ops.adaptiveAvgPool2d(x, 6), [input([1, 2, 2, 2], 25)], be));
  test('local_response_norm size 5 (paper), channel edges', () =>
    gradcheck('lrn5', (x) => ops.localResponseNorm(x, 5, 5e-4, 0.75, 2), [input([2, 7, 3, 2], 26, 3)], be));
  test('local_response_norm even size, strong alpha', () =>
    gradcheck('lrn4', (x) => ops.localResponseNorm(x, 4, 0.5, 0.6, 1), [input([1, 5, 2, 2], 27, 2)], be));
  test('local_response_norm size larger than channels', () =>
    gradcheck('lrn7', (x) => ops.localResponseNorm(x, 7, 0.3, 0.75, 1), [input([1, 3, 2, 2], 28)], be));
  test('dropout (fixed mask)', () => gradcheck('dropout', (x) => ops.dropout(x, 0.4, true, new Generator(5)), [input([3, 8], 29)], be));
});

describe('gradcheck: fully connected, shapes, losses', () => {
  test('linear', () => gradcheck('linear', (x, w, b) => ops.linear(x, w, b), [input([3, 7], 30), input([4, 7], 31), input([4], 32)], be));
  test('linear with fused relu', () =>
    gradcheck(
      'linear relu',
      (x, w, b) => ops.linear(x, w, b, { relu: true }),
      [input([3, 5], 33), input([4, 5], 34), input([4], 35, 0.01)],
      be,
      { rtol: 1e-3 },
    ));
  test('flatten and reshape', () => gradcheck('flatten', (x) => ops.reshape(ops.flatten(x, 1), [-1, 3]), [input([2, 3, 2, 2], 36)], be));
  test('log_softmax', () => gradcheck('log_softmax', (x) => ops.logSoftmax(x), [input([3, 5], 37, 3)], be));
  test('cross_entropy', () => gradcheck('cross_entropy', (x) => ops.crossEntropy(x, [2, 0, 4]), [input([3, 5], 38, 3)], be));
});

describe('gradcheck: elementwise and reductions', () => {
  const pos = (shape: number[], seed: number) => ({ shape, data: input(shape, seed).data.map((v) => 1.5 + v) });
  const binary: [string, (a: Tensor, b: Tensor) => Tensor][] = [
    ['add', ops.add],
    ['sub', ops.sub],
    ['mul', ops.mul],
    ['div', ops.div],
  ];
  for (const [name, f] of binary) test(name, () => gradcheck(name, f, [input([2, 3], 40), pos([2, 3], 41)], be));
  test('mulScalar, addScalar, neg', () => gradcheck('scalar', (x) => ops.neg(ops.addScalar(ops.mulScalar(x, 3), 2)), [input([4], 42)], be));
  test('exp, log, sqrt', () => gradcheck('exp log sqrt', (x) => ops.sqrt(ops.log(ops.exp(x))), [pos([5], 43)], be));
  test('sum over an axis', () => gradcheck('sum axis', (x) => ops.sum(x, 1), [input([2, 3, 4], 44)], be));
  test('mean over everything', () => gradcheck('mean', (x) => ops.mean(x), [input([2, 3], 45)], be));
});
