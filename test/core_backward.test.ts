// backward() frees the graph it runs through, as PyTorch does: a second backward through it is
// an error naming retainGraph, unless the first call kept the graph with { retainGraph: true }.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mul, sum } from '../src/ops/index.js';
import { Tensor } from '../src/tensor.js';
import { reference as backend } from './native_helpers.js';

const leaf = () => Tensor.fromArray([1, 2, 3], [3], { backend, requiresGrad: true });
const secondTime = /backward\(\): trying to backward through the graph a second time.*retainGraph: true/;

test('a second backward through a freed graph throws and leaves the gradients alone', () => {
  const x = leaf();
  const loss = sum(mul(x, x));
  loss.backward();
  assert.deepEqual(Array.from(x.grad?.toArray() ?? []), [2, 4, 6]);
  assert.throws(() => loss.backward(), secondTime);
  assert.equal(loss.grad, null);
  assert.deepEqual(Array.from(x.grad?.toArray() ?? []), [2, 4, 6]);
});

test('a loss sharing part of an already used graph cannot run through it again', () => {
  const x = leaf();
  const y = mul(x, x);
  sum(y).backward();
  assert.throws(() => sum(mul(y, x)).backward(), secondTime);
});

test('retainGraph keeps the graph for another backward, which accumulates', () => {
  const x = leaf();
  const loss = sum(mul(x, x));
  loss.backward(undefined, { retainGraph: true });
  loss.backward();
  assert.deepEqual(Array.from(x.grad?.toArray() ?? []), [4, 8, 12]);
  assert.throws(() => loss.backward(), secondTime);
});

test('a gradient of the wrong shape is refused', () => {
  const y = mul(leaf(), leaf());
  assert.throws(() => y.backward(Tensor.ones([2], { backend })), /backward\(\): grad \[2\] does not match output \[3\]/);
});
