// What a user's --input / --num-classes can do wrong to createModel, summary and forward: each is a
// UsageError or ShapeError naming the option or the expected input, and shapes in messages are the
// user's (torchsummary's [-1, ...] or the batch given), never summary's internal batch of 2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setBackend } from '../src/backend/registry.js';
import { ShapeError, UsageError } from '../src/errors.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { summary } from '../src/summary/summary.js';
import { noGrad, Tensor } from '../src/tensor.js';
import { reference } from './native_helpers.js';

setBackend(reference);

function throwsA(kind: typeof UsageError | typeof ShapeError, fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof kind, `expected a ${kind.name}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

const small = (arch: ArchName) => createModel(arch, { numClasses: 2 });

test("summary reports the user's input shape, not its internal batch of 2", () => {
  const v1 = small('alexnet-v1');
  for (const [batchSize, shown] of [
    [undefined, '[-1, 3, 100, 100]'],
    [16, '[16, 3, 100, 100]'],
  ] as const) {
    assert.throws(
      () => summary(v1, [3, 100, 100], { batchSize }),
      (e: unknown) =>
        e instanceof ShapeError &&
        e.message.includes('alexnet-v1 expects input [N, 3, 227, 227]') &&
        e.message.includes(`got ${shown}`) &&
        !e.message.includes('[2, '),
    );
  }
  throwsA(ShapeError, () => summary(small('alexnet'), [3, 32, 32]), /alexnet expects input \[N, 3, 224, 224\], got \[-1, 3, 32, 32\]/);
  throwsA(ShapeError, () => summary(small('alexnet'), [1, 224, 224]), /got \[-1, 1, 224, 224\]/);
});

test('summary refuses inputs that are not [C, H, W] of positive integers', () => {
  const m = small('alexnet');
  throwsA(ShapeError, () => summary(m, [3, 224]), /summary: input \[3, 224\] is not \[C, H, W\]/);
  throwsA(ShapeError, () => summary(m, [3, 2.5, 224]), /summary: .*\[3, 2\.5, 224\]/);
  throwsA(ShapeError, () => summary(m, [3, 0, 224]), /summary: .*\[3, 0, 224\]/);
  throwsA(UsageError, () => summary(m, [3, 224, 224], { batchSize: 0 }), /batchSize must be -1 or a positive integer, got 0/);
});

test('a model whose FC6 depends on the input names the size it expects when given another', () => {
  for (const arch of ['alexnet-v1', 'alexnet-2012'] as const) {
    const m = small(arch);
    throwsA(
      ShapeError,
      () => noGrad(() => m.forward(Tensor.zeros([1, 3, 224, 224]))),
      new RegExp(`${arch} expects input \\[N, 3, 227, 227\\] \\(FC6 takes 9216 features\\), got \\[1, 3, 224, 224\\]`),
    );
  }
  throwsA(
    ShapeError,
    () => noGrad(() => small('alexnet').forward(Tensor.zeros([5, 3, 16, 16]))),
    /expects input \[N, 3, 224, 224\], got \[5, 3, 16, 16\]/,
  );
  throwsA(ShapeError, () => small('alexnet').outputShape([3, 224, 224]), /got \[3, 224, 224\]/);
});

test('createModel names the option at fault', () => {
  throwsA(UsageError, () => createModel('alexnet', { numClasses: 0 }), /numClasses must be a positive integer, got 0/);
  throwsA(UsageError, () => createModel('alexnet', { inChannels: 1.5 }), /inChannels must be a positive integer, got 1\.5/);
  throwsA(UsageError, () => createModel('alexnet-v1', { inputSize: -227 }), /inputSize must be a positive integer, got -227/);
  throwsA(UsageError, () => createModel('alexnet', { dropout: 2 }), /dropout must be in \[0, 1\], got 2/);
  throwsA(UsageError, () => createModel('vgg' as ArchName), /unknown architecture 'vgg'/);
  throwsA(UsageError, () => createModel('alexnet', { init: 'he' as 'paper' }), /init must be one of pytorch, paper, xavier, got 'he'/);
  throwsA(ShapeError, () => createModel('alexnet-v1', { inputSize: 20 }), /alexnet-v1 with .*inputSize 20: .*smaller than/);
  throwsA(
    ShapeError,
    () => createModel('alexnet', { numClasses: 2 ** 31 }),
    /alexnet with numClasses 2147483648.*: .*\[2147483648, 4096\]/,
  );
});
