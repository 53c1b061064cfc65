// Native memory is freed deterministically: 400 training-like steps (conv + ReLU, max pooling,
// LRN, flatten, linear, dropout, cross-entropy, backward, SGD with momentum) inside tidy leave the
// number of live native allocations and the process RSS flat. Also checks dispose() frees at once
// and that forwardAsync-style deferred runs free what they queued.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setBackend } from '../src/backend/registry.js';
import { nativeLiveBuffers } from '../src/backend/native/index.js';
import { Conv2d, Dropout, Linear, LocalResponseNorm, MaxPool2d, ReLU, Sequential } from '../src/nn/index.js';
import { crossEntropy, flatten } from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { native, skip } from './native_helpers.js';

// A full garbage collection on demand (node runs tests without --expose-gc): RSS is measured
// after one, so the JS heap's uncollected garbage does not count as growth.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function smallNet(): { features: Sequential; classifier: Sequential } {
  const features = new Sequential(
    new Conv2d(3, 16, 5, { stride: 2, padding: 2 }),
    new ReLU(),
    new LocalResponseNorm(5, 1e-3, 0.75, 2),
    new MaxPool2d(3, 2),
    new Conv2d(16, 32, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new MaxPool2d(3, 2, 0, true),
  );
  const classifier = new Sequential(new Dropout(0.5), new Linear(32 * 3 * 3, 64), new ReLU(), new Linear(64, 10));
  return { features, classifier };
}

test('400 training steps leave live native buffers and RSS flat', { skip, timeout: 120_000 }, () => {
  setBackend(native!);
  try {
    const rng = new Generator(7);
    const net = smallNet();
    const params = [...net.features.parameters(), ...net.classifier.parameters()];
    const opt = new SGD(params, { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
    const x = Tensor.uniform([8, 3, 32, 32], -1, 1, { rng });
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 10);
    const step = (): number => {
      opt.zeroGrad();
      const loss = tidy(() => {
        const h = flatten(net.features.forward(x), 1);
        const l = crossEntropy(net.classifier.forward(h), labels);
        l.backward();
        return l.item();
      });
      // Outside tidy: SGD creates its momentum buffers on the first step, and they must outlive it.
      opt.step();
      return loss;
    };
    // Warm-up: momentum buffers, primitive caches, and the allocator arenas of the threads, which
    // settle over the first tens of steps (one-time growth, not a leak).
    for (let i = 0; i < 100; i++) step();
    const liveBefore = nativeLiveBuffers();
    // RSS over two windows of 200 steps: a leak grows it in both; the allocator's own one-time
    // growth lands in one (usually 4–8 MB, twice in CI runs 26–27 MB in a single window).
    const growthMb: number[] = [];
    let loss = 0;
    for (let w = 0; w < 2; w++) {
      gc();
      const rssBefore = process.memoryUsage().rss;
      for (let i = 0; i < 200; i++) loss = step();
      gc();
      growthMb.push((process.memoryUsage().rss - rssBefore) / 2 ** 20);
    }
    const liveAfter = nativeLiveBuffers();
    assert.ok(Number.isFinite(loss), `loss ${loss}`);
    assert.equal(liveAfter, liveBefore, `live native buffers grew from ${liveBefore} to ${liveAfter}`);
    const shown = growthMb.map((g) => g.toFixed(1)).join(' and ');
    console.log(`native buffers ${liveBefore} → ${liveAfter}; RSS growth over two windows of 200 steps ${shown} MB`);
    assert.ok(Math.min(...growthMb) < 24, `RSS grew by ${shown} MB in two windows of 200 steps`);
  } finally {
    setBackend('reference');
  }
});

test('dispose frees native memory at once; deferred (async) runs free what they queued', { skip }, async () => {
  setBackend(native!);
  try {
    const base = nativeLiveBuffers();
    const t = Tensor.zeros([64, 64]);
    assert.equal(nativeLiveBuffers(), base + 1);
    t.dispose();
    assert.equal(nativeLiveBuffers(), base);
    const net = smallNet();
    net.features.eval();
    net.classifier.eval();
    const x = Tensor.uniform([2, 3, 32, 32], -1, 1, { rng: new Generator(3) });
    const sync = noGrad(() => tidy(() => net.classifier.forward(flatten(net.features.forward(x), 1)).toArray()));
    const before = nativeLiveBuffers();
    const y = await native!.runAsync(() => noGrad(() => tidy(() => net.classifier.forward(flatten(net.features.forward(x), 1)))));
    assert.deepEqual(y.toArray(), sync);
    y.dispose();
    assert.equal(nativeLiveBuffers(), before, 'buffers left after an async forward');
  } finally {
    setBackend('reference');
  }
});

test('storages that are never disposed are freed once garbage collected (FinalizationRegistry)', { skip, timeout: 30_000 }, async () => {
  const base = nativeLiveBuffers();
  (() => {
    for (let i = 0; i < 20; i++) native!.full([1024], i, 'float32'); // dropped on the floor
  })();
  assert.equal(nativeLiveBuffers(), base + 20);
  for (let i = 0; i < 100 && nativeLiveBuffers() > base; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
  // ≤: storages that earlier tests left unreachable may be collected too.
  assert.ok(nativeLiveBuffers() <= base, `unreachable storages were not freed: ${nativeLiveBuffers()} live, ${base} before`);
});
