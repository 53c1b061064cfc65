// String(model) prints the module tree as PyTorch's print(model) does, checked against the text
// PyTorch prints for the three AlexNets (scripts/make_repr_fixtures.py).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setBackend } from '../src/backend/registry.js';
import { createModel, ARCHS } from '../src/models/index.js';
import { Conv2d } from '../src/nn/conv.js';
import { Linear } from '../src/nn/linear.js';
import { LocalResponseNorm } from '../src/nn/lrn.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../src/nn/pool.js';
import { Sequential } from '../src/nn/sequential.js';
import { pyFloat } from '../src/summary/format.js';
import { reference } from './native_helpers.js';

setBackend(reference);
const golden = (name: string) =>
  readFileSync(new URL(`./fixtures/golden/${name}`, import.meta.url.replace('/dist/test/', '/test/')), 'utf8');

for (const arch of ARCHS) {
  test(`String(${arch}) equals PyTorch's print(model)`, () => {
    assert.equal(`${String(createModel(arch))}\n`, golden(`repr_${arch}.txt`));
  });
}

test('layers print what differs from the defaults, as PyTorch does', () => {
  assert.equal(
    String(new Conv2d(4, 6, [3, 5], { bias: false, padding: [0, 1] })),
    'Conv2d(4, 6, kernel_size=(3, 5), stride=(1, 1), padding=(0, 1), bias=False)',
  );
  assert.equal(String(new Linear(3, 2, { bias: false })), 'Linear(in_features=3, out_features=2, bias=False)');
  assert.equal(String(new MaxPool2d([3, 2], 1, 1, true)), 'MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, dilation=1, ceil_mode=True)');
  assert.equal(String(new AdaptiveAvgPool2d(1)), 'AdaptiveAvgPool2d(output_size=1)');
  assert.equal(String(new LocalResponseNorm(3)), 'LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)');
  assert.equal(String(new Sequential()), 'Sequential()');
});

test("Python's repr of a float", () => {
  assert.equal(pyFloat(2), '2.0');
  assert.equal(pyFloat(0.5), '0.5');
  assert.equal(pyFloat(1e-4), '0.0001');
  assert.equal(pyFloat(1e-5), '1e-05');
  assert.equal(pyFloat(-1.5e-7), '-1.5e-07');
  assert.equal(pyFloat(1e16), '1e+16');
  assert.equal(pyFloat(123456789012345.6), '123456789012345.6');
  assert.equal(pyFloat(0.1 + 0.2), '0.30000000000000004');
  assert.equal(pyFloat(NaN), 'nan');
  assert.equal(pyFloat(-Infinity), '-inf');
});
