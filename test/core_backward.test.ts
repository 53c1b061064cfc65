// backward() frees the graph it runs through, as PyTorch does: a second backward through it is
// an error naming retainGraph, unless the first call kept the graph with { retainGraph: true }.
// sum's backward builds its gradient with backend ops (no read of the data back).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FloatArray, Shape, Storage } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
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

/** The reference backend, counting the reads of data (toArray) made through it. */
class CountingReference extends ReferenceBackend {
  reads = 0;
  override toArray(s: Storage, shape: Shape): FloatArray {
    this.reads++;
    return super.toArray(s, shape);
  }
}

test("sum's backward broadcasts the gradient with backend ops: right values, nothing read back", () => {
  const counting = new CountingReference();
  const shape = [2, 3, 4];
  const xs = Float64Array.from({ length: 24 }, (_, i) => i - 5);
  for (const axis of [null, 0, 1, 2] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = Tensor.fromArray(dtype === 'float32' ? Float32Array.from(xs) : xs, shape, { backend: counting, requiresGrad: true });
      const s = sum(x, axis);
      // Upstream gradient u (distinct values, one NaN and one infinity): d/dx sum(sum(x, axis) · u).
      const u = Array.from({ length: s.size }, (_, i) => (i === 1 ? NaN : i === 2 ? Infinity : i + 0.5));
      const upstream = Tensor.fromArray(dtype === 'float32' ? Float32Array.from(u) : Float64Array.from(u), s.shape, { backend: counting });
      const loss = sum(mul(s, upstream));
      counting.reads = 0;
      loss.backward();
      assert.equal(counting.reads, 0, `axis ${axis} ${dtype}: backward read data`);
      const inner = axis === null ? 1 : shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const len = axis === null ? 24 : shape[axis]!;
      const want = Array.from({ length: 24 }, (_, i) => u[Math.floor(i / (inner * len)) * inner + (i % inner)]!);
      assert.deepEqual(Array.from(x.grad!.toArray()), want, `axis ${axis} ${dtype}`);
      assert.equal(x.grad!.dtype, dtype);
    }
  }
});
