// Every way of making a tensor checks its shape before anything is allocated: dimensions are
// non-negative safe integers and the element count fits one typed array (on every backend, so a
// hostile shape never reaches the native addon or the wasm kernels).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { ShapeError } from '../src/errors.js';
import { flatten, reshape } from '../src/ops/shape.js';
import { Tensor } from '../src/tensor.js';
import { loadWasmBackendSync } from '../src/backend/wasm/node.js';
import { native, reference } from './native_helpers.js';

const backends: Backend[] = [reference, ...(native ? [native] : []), loadWasmBackendSync({ threads: 1 })];

/** Asserts a ShapeError whose message names the call and the shape at fault. */
function rejects(fn: () => unknown, call: string, shape: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ShapeError, `expected a ShapeError, got ${String(e)}`);
    assert.ok(e.message.includes(call) && e.message.includes(shape), e.message);
    return true;
  });
}

for (const backend of backends) {
  test(`${backend.name}: factories reject shapes that are not non-negative integers or too large`, () => {
    const opts = { backend };
    rejects(() => Tensor.zeros([2 ** 62, 4], opts), 'Tensor.zeros', '[4611686018427388000, 4]');
    rejects(() => Tensor.zeros([2 ** 31, 2 ** 31], opts), 'Tensor.zeros', '[2147483648, 2147483648]');
    rejects(() => Tensor.zeros([2.5, 2], opts), 'Tensor.zeros', '[2.5, 2]');
    rejects(() => Tensor.ones([-1, 2], opts), 'Tensor.ones', '[-1, 2]');
    rejects(() => Tensor.full([NaN], 3, opts), 'Tensor.full', '[NaN]');
    rejects(() => Tensor.randn([2 ** 40], opts), 'Tensor.randn', '[1099511627776]');
    rejects(() => Tensor.uniform([Infinity, 1], 0, 1, opts), 'Tensor.uniform', '[Infinity, 1]');
    rejects(() => Tensor.fromArray([1, 2], [0.5, 4], opts), 'Tensor.fromArray', '[0.5, 4]');
    rejects(() => Tensor.fromArray([], [0, -3], opts), 'Tensor.fromArray', '[0, -3]');
  });

  test(`${backend.name}: reshape results are checked too`, () => {
    const x = Tensor.fromArray([1, 2, 3, 4, 5, 6], [2, 3], { backend });
    rejects(() => reshape(x, [1.5, 4]), 'reshape', '[1.5, 4]');
    rejects(() => reshape(x, [-2, -3]), 'reshape', '[-2, -3]');
    rejects(() => reshape(x, [-1, -1]), 'reshape', '[-1, -1]');
    rejects(() => reshape(x, [4, 2]), 'reshape', '[4, 2]');
    assert.deepEqual(reshape(x, [3, -1]).shape, [3, 2]);
  });

  test(`${backend.name}: scalar shapes stay valid`, () => {
    assert.equal(Tensor.full([], 7, { backend }).item(), 7);
  });
}

test('a dimension of 0 stays valid (the reference backend holds empty tensors)', () => {
  assert.equal(Tensor.zeros([0, 2 ** 40], { backend: reference }).size, 0);
  assert.deepEqual(flatten(Tensor.zeros([2, 3, 0], { backend: reference })).shape, [2, 0]);
});
