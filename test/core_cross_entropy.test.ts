// crossEntropy's labels: number[], Int32Array or an integer-valued Tensor [N] (PyTorch takes a
// LongTensor); fractional, NaN, negative or out-of-range labels are refused with their index and
// value instead of being truncated by the conversion to Int32Array.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataError, ShapeError } from '../src/errors.js';
import { crossEntropy } from '../src/ops/loss.js';
import { Tensor } from '../src/tensor.js';
import { reference as backend } from './native_helpers.js';

const logits = () => Tensor.fromArray([0.5, -1, 2, 0, 1, -0.5], [2, 3], { backend, requiresGrad: true });

/** Asserts a DataError (ShapeError included) whose message matches `pattern`. */
function refuses(labels: Parameters<typeof crossEntropy>[1], pattern: RegExp): void {
  assert.throws(
    () => crossEntropy(logits(), labels),
    (e: unknown) => e instanceof DataError && pattern.test(e.message),
  );
}

test('an integer tensor of labels gives the same loss and gradient as number[]', () => {
  const a = logits();
  const b = logits();
  const fromList = crossEntropy(a, [2, 0]);
  const fromTensor = crossEntropy(b, Tensor.fromArray([2, 0], [2], { backend }));
  assert.equal(fromTensor.item(), fromList.item());
  fromList.backward();
  fromTensor.backward();
  assert.deepEqual(b.grad?.toArray(), a.grad?.toArray());
  const f64 = Tensor.fromArray(Float64Array.of(1, 1), [2], { backend });
  assert.ok(Number.isFinite(crossEntropy(logits(), f64).item()));
});

test('fractional, NaN, negative and out-of-range labels name their index and value', () => {
  refuses([0, 1.5], /label 1\.5 at index 1 is not an integer class index/);
  refuses([NaN, 0], /label NaN at index 0 is not an integer class index/);
  refuses([0, -1], /label -1 at index 1 is outside \[0, 3\)/);
  refuses(Int32Array.of(3, 0), /label 3 at index 0 is outside \[0, 3\)/);
  refuses(Tensor.fromArray([0, 0.25], [2], { backend }), /label 0\.25 at index 1 is not an integer class index/);
  refuses(Tensor.fromArray([7, 0], [2], { backend }), /label 7 at index 0 is outside \[0, 3\)/);
  refuses([2 ** 32, 0], /label 4294967296 at index 0 is outside \[0, 3\)/);
});

test('labels of the wrong count or rank are a ShapeError', () => {
  assert.throws(
    () => crossEntropy(logits(), [0]),
    (e: unknown) => e instanceof ShapeError && /1 labels for a batch of 2/.test(e.message),
  );
  assert.throws(
    () => crossEntropy(logits(), Tensor.fromArray([0, 1], [2, 1], { backend })),
    (e: unknown) => e instanceof ShapeError && /labels \[2, 1\]/.test(e.message),
  );
});
