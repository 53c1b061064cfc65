// Ops and layers given tensors that do not fit them throw a ShapeError naming the shapes (a
// DataError: the CLI prints one line); bad arguments (probabilities, sizes, groups) a UsageError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShapeError, UsageError } from '../src/errors.js';
import { Conv2d } from '../src/nn/conv.js';
import { Dropout } from '../src/nn/dropout.js';
import { Linear } from '../src/nn/linear.js';
import { add, conv2d, dropout, linear, localResponseNorm, logSoftmax, mean, sum } from '../src/ops/index.js';
import { Tensor } from '../src/tensor.js';
import { reference as backend } from './native_helpers.js';

const t = (shape: number[], dtype: 'float32' | 'float64' = 'float32') => Tensor.zeros(shape, { backend, dtype });

function throwsA(kind: typeof UsageError | typeof ShapeError, fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected a ${kind.name}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('tensors that do not fit an op are a ShapeError naming the shapes', () => {
  throwsA(ShapeError, () => linear(t([2, 5]), t([3, 4]), null), /linear: input \[2, 5\] has 5 features, weight \[3, 4\] expects 4/);
  throwsA(ShapeError, () => linear(t([2, 3, 4]), t([3, 4]), null), /linear: expected a 2-D input \[N, features\], got \[2, 3, 4\]/);
  throwsA(ShapeError, () => linear(t([2, 4]), t([3, 4]), t([2])), /linear: bias \[2\] does not match 3 outputs/);
  throwsA(ShapeError, () => conv2d(t([1, 2, 5, 5]), t([4, 2, 3, 3]), t([3])), /conv2d: bias \[3\] does not match 4 output channels/);
  throwsA(ShapeError, () => add(t([2, 3]), t([3, 2])), /add: shapes \[2, 3\] and \[3, 2\] differ/);
  throwsA(ShapeError, () => add(t([2]), t([2], 'float64')), /add: mixed dtypes float32 and float64/);
  throwsA(ShapeError, () => logSoftmax(t([4])), /log_softmax: expected logits \[N, C\], got \[4\]/);
  throwsA(ShapeError, () => localResponseNorm(t([2, 3, 4]), 5), /local_response_norm: expected \[N, C, H, W\], got \[2, 3, 4\]/);
  throwsA(ShapeError, () => sum(t([2, 3]), 2), /sum: axis 2 out of range for \[2, 3\]/);
  throwsA(ShapeError, () => mean(t([2, 3]), -1), /sum: axis -1 out of range for \[2, 3\]/);
  throwsA(ShapeError, () => new Linear(3, 2).outputShape([4, 5]), /Linear: input \[4, 5\] has 5 features, expected 3/);
});

test('bad arguments to ops and layers are a UsageError naming them', () => {
  throwsA(UsageError, () => dropout(t([2]), 1.5, true), /dropout: probability must be in \[0, 1\], got 1\.5/);
  throwsA(UsageError, () => new Dropout(-0.1), /Dropout: probability must be in \[0, 1\], got -0\.1/);
  throwsA(UsageError, () => localResponseNorm(t([1, 2, 3, 3]), 0), /local_response_norm: size must be a positive integer, got 0/);
  throwsA(UsageError, () => new Conv2d(3, 4, 3, { groups: 2 }), /Conv2d: groups=2 must divide in \(3\) and out \(4\) channels/);
});
