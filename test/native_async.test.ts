// Async inference on the native backend: Backend.runAsync (behind Module.forwardAsync) queues the
// primitive executions and runs them on the libuv thread pool, so the event loop keeps turning
// while a forward pass computes; results equal the synchronous forward; concurrent calls queue;
// a run that fails partway leaves no cached weight copy that was never written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinearGeometry, Storage } from '../src/backend/backend.js';
import { tryLoadNative } from '../src/backend/native/load.js';
import { NativeBackend } from '../src/backend/native/native_backend.js';
import { setBackend } from '../src/backend/registry.js';
import { Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../src/nn/index.js';
import { flatten } from '../src/ops/index.js';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { native, randomArray, reference, relError, skip } from './native_helpers.js';

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

// A flush that fails partway drops the tasks queued after the failing one; among them the tasks
// writing cached weight copies (the f32 inner product's reordered weights, the int8 copy). Those
// copies must not be trusted afterwards: the next forward recomputes them and matches the reference.
test('a deferred run that fails partway leaves no cached weight copy claimed written', { skip }, async () => {
  const g: LinearGeometry = { m: 3, k: 70, n: 20 };
  const xs = randomArray(g.m * g.k, 31);
  const ws = randomArray(g.n * g.k, 32, 0.1);
  const bs = randomArray(g.n, 33);
  const want = reference.toArray(reference.linear(...refArgs(xs, ws, bs, g), g, false), [g.m, g.n]);
  for (const [p, tol] of [
    ['f32', 1e-5],
    ['int8', 3e-2],
  ] as const) {
    const r = tryLoadNative({ classifierPrecision: p });
    assert.ok(r.backend instanceof NativeBackend, r.reason);
    const nb = r.backend;
    const [x, w, b] = [nb.fromArray(xs, [g.m, g.k]), nb.fromArray(ws, [g.n, g.k]), nb.fromArray(bs, [g.n])];
    await assert.rejects(
      nb.runAsync(() => {
        nb.addon.submitFailingTask('injected failure');
        return nb.linear(x, w, b, g, false, false); // queued after the failure: never runs
      }),
      /async flush failed: injected failure/,
    );
    // The same when fn itself throws after the failing task (leaving deferred mode runs the queue).
    await assert.rejects(
      nb.runAsync(() => {
        nb.addon.submitFailingTask('injected failure');
        nb.linear(x, w, b, g, false, false);
        throw new Error('fn failed');
      }),
      /injected failure|fn failed/,
    );
    assert.equal(nb.addon.isDeferred(), false, 'a failed flush leaves deferred mode off');
    const err = relError(nb.toArray(nb.linear(x, w, b, g, false, false), [g.m, g.n]), want);
    assert.ok(err <= tol, `${p}: relative error ${err} after the failed run`);
  }
});

function refArgs(xs: Float32Array, ws: Float32Array, bs: Float32Array, g: LinearGeometry): [Storage, Storage, Storage] {
  return [reference.fromArray(xs, [g.m, g.k]), reference.fromArray(ws, [g.n, g.k]), reference.fromArray(bs, [g.n])];
}
