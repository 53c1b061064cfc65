// Async inference on the native backend: Backend.runAsync (behind Module.forwardAsync) queues the
// primitive executions and runs them on the libuv thread pool, so the event loop keeps turning
// while a forward pass computes; results equal the synchronous forward; concurrent calls queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setBackend } from '../src/backend/registry.js';
import { Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../src/nn/index.js';
import { flatten } from '../src/ops/index.js';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { native, randomArray, skip } from './native_helpers.js';

function net(): (x: Tensor) => Tensor {
  const features = new Sequential(
    new Conv2d(3, 64, 11, { stride: 4, padding: 2 }),
    new ReLU(),
    new MaxPool2d(3, 2),
    new Conv2d(64, 192, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(3, 2),
  );
  const head = new Linear(192 * 6 * 6, 100);
  features.eval();
  return (x) => tidy(() => head.forward(flatten(features.forward(x), 1)));
}

test('runAsync computes on the thread pool while the event loop keeps running', { skip, timeout: 60_000 }, async () => {
  setBackend(native!);
  try {
    const forward = net();
    const x = Tensor.fromArray(randomArray(8 * 3 * 119 * 119, 1), [8, 3, 119, 119]);
    const want = noGrad(() => forward(x)).toArray();
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 1);
    const t0 = performance.now();
    const results = await Promise.all([native!.runAsync(() => noGrad(() => forward(x))), native!.runAsync(() => noGrad(() => forward(x)))]);
    const ms = performance.now() - t0;
    clearInterval(timer);
    for (const y of results) assert.deepEqual(y.toArray(), want);
    // Two forwards take tens of ms: a blocked loop would see no 1-ms timer tick at all.
    assert.ok(ticks > 0, `event loop did not turn during ${ms.toFixed(0)} ms of async work`);
    // An error inside fn rejects and leaves the backend usable (immediate mode again).
    await assert.rejects(
      native!.runAsync(() => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(noGrad(() => forward(x)).toArray(), want);
  } finally {
    setBackend('reference');
  }
});

test("forwardAsync goes through the tensor's backend: reference tensors compute now, never deferred", { skip }, async () => {
  setBackend('reference');
  const layer = new Linear(6, 3);
  const x = Tensor.fromArray(randomArray(12, 5), [2, 6]);
  assert.equal(x.backend.name, 'reference');
  const pending = layer.forwardAsync(x);
  assert.equal(native!.addon.isDeferred(), false);
  const y = await pending;
  assert.deepEqual(y.toArray(), noGrad(() => layer.forward(x)).toArray());
});
