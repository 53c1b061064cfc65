// The wasm backend's own tests (conformance.test.ts proves its ops against PyTorch): the heap
// (size classes, reuse, growth, views after growth), dispose and reshape sharing, one thread vs two
// giving identical bits, a training step of alexnet-v1 against the reference backend, the native
// backend's dropout mask, hostile geometry rejected before any kernel runs (a size limit naming the
// backend it is: wasm, or webgpu, which shares the checks), a dead worker giving a
// clear error (not a hang), and workers that never keep a process alive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import type { Backend, ConvGeometry, PoolGeometry, Storage } from '../src/backend/backend.js';
import { convGeometry, poolGeometry } from '../src/backend/conv_util.js';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { WasmHeap, sizeClass } from '../src/backend/wasm/heap.js';
import { ThreadPool } from '../src/backend/wasm/pool.js';
import { READY } from '../src/backend/wasm/control.js';
import { loadWasmBackend } from '../src/backend/wasm/index.js';
import { loadWasmBackendSync } from '../src/backend/wasm/node.js';
import type { WasmBackend } from '../src/backend/wasm/wasm_backend.js';
import { checkLinear as checkWebGpuLinear } from '../src/backend/webgpu/checks.js';
import { ShapeError, UsageError } from '../src/errors.js';
import { createModel } from '../src/models/index.js';
import * as ops from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { noGrad, Tensor } from '../src/tensor.js';
import { native } from './native_helpers.js';
import { relError } from './helpers.js';
import { miniAlexNet } from './mini_alexnet.js';

const one = loadWasmBackendSync({ threads: 1 });
const two = loadWasmBackendSync({ threads: 2 });

function random(n: number, seed: number, scale = 1): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => (g.uniform() * 2 - 1) * scale);
}

describe('wasm heap', () => {
  test('size classes: 16-byte multiples, at most 12.5 % above the request', () => {
    for (const bytes of [1, 15, 16, 17, 4096, 4097, 5000, 65537, 1e6, 123456789]) {
      const c = sizeClass(bytes);
      assert.ok(c >= bytes && c % 16 === 0 && c <= Math.max(16, bytes * 1.125 + 16), `${bytes} -> ${c}`);
      assert.equal(sizeClass(c), c, `class ${c} is stable`);
    }
  });

  test('a freed block is reused for the next request of its class; memory grows when needed', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1024 });
    const heap = new WasmHeap(memory, 100);
    const a = heap.alloc(1000); // class 1008
    assert.equal(a % 16, 0);
    assert.ok(a >= 100);
    heap.release(a);
    assert.equal(heap.alloc(995), a, 'same class, same block');
    assert.throws(() => heap.release(a + 16), /not allocated/);
    heap.f32[a / 4] = 42;
    const big = heap.alloc(200_000); // beyond the first 64 KiB page
    assert.ok(heap.capacity >= big + 200_000);
    assert.equal(heap.f32[a / 4], 42, 'views are refreshed after growth');
    heap.f32[(big + 199_996) / 4] = 7;
    assert.equal(new Float32Array(memory.buffer)[(big + 199_996) / 4], 7);
  });

  test('a request beyond the memory limit is a DataError naming the size', () => {
    const heap = new WasmHeap(new WebAssembly.Memory({ initial: 1, maximum: 4 }), 0, 4 * 65536);
    assert.throws(() => heap.alloc(1 << 20), /out of memory: a tensor of 1\.0 MiB/);
  });
});

describe('wasm storages', () => {
  test('values survive memory growth; dispose frees; a reshape shares its block until both are disposed', () => {
    const be = one;
    const live = be.heap.liveBytes;
    const x = be.fromArray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const capacity = be.heap.capacity;
    const big = be.full([capacity / 4 + 1000], 0.5, 'float32'); // forces growth
    assert.ok(be.heap.capacity > capacity);
    assert.deepEqual(Array.from(be.toArray(x, [2, 3])), [1, 2, 3, 4, 5, 6]);
    be.write(big, capacity / 4 + 999, Float32Array.from([9]), [capacity / 4 + 1000]);
    assert.equal(be.toArray(big, [capacity / 4 + 1000])[capacity / 4 + 999], 9);
    be.dispose(big);
    const r = be.reshape(x, [2, 3], [3, 2]);
    be.dispose(x);
    assert.deepEqual(Array.from(be.toArray(r, [3, 2])), [1, 2, 3, 4, 5, 6], 'the reshape keeps the block');
    assert.throws(() => be.toArray(x, [2, 3]), /disposed/);
    be.dispose(r);
    assert.equal(be.heap.liveBytes, live, 'everything freed');
  });

  test('a storage never disposed is freed once garbage collected (FinalizationRegistry)', () => {
    const script = `const { loadWasmBackendSync } = await import('${new URL('../src/backend/wasm/node.js', import.meta.url).href}');
      const be = loadWasmBackendSync({ threads: 1 });
      const live = be.heap.liveBytes;
      (() => { for (let i = 0; i < 10; i++) be.full([250000], 1, 'float32'); })();
      const held = be.heap.liveBytes - live;
      for (let i = 0; i < 20 && be.heap.liveBytes > live; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      process.stdout.write(JSON.stringify({ held, after: be.heap.liveBytes - live }));`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const { held, after } = JSON.parse(r.stdout) as { held: number; after: number };
    assert.ok(held >= 10 * 1_000_000, `held ${held} bytes`);
    assert.equal(after, 0, 'every block went back to the heap');
  });

  test('storages of another backend or another wasm instance are refused', () => {
    const other = loadWasmBackendSync({ threads: 1, ackTimeoutMs: 1000 }); // a separate instance
    const x = other.fromArray(new Float32Array(4), [4]);
    assert.throws(() => one.relu(x, [4]), /another wasm backend instance/);
    assert.throws(() => one.relu(referenceBackend().fromArray(new Float32Array(4), [4]), [4]), /'reference' backend/);
    other.close();
  });

  test('the asynchronous factory works in Node too, with its own instance', async () => {
    const be = await loadWasmBackend({ threads: 2 });
    assert.equal(be.threads, 2);
    assert.match(be.moduleName, /^alexnet_mt(_relaxed)?\.wasm$/);
    const x = be.fromArray(random(40_000, 8), [40_000]);
    assert.deepEqual(
      be.toArray(be.relu(x, [40_000]), [40_000]),
      two.toArray(two.relu(two.fromArray(random(40_000, 8), [40_000]), [40_000]), [40_000]),
    );
    be.close();
  });

  test('bf16 is refused clearly; the default thread count is min(cores, 4)', () => {
    assert.throws(
      () => setBackend('wasm', { precision: 'bf16' }),
      (e: unknown) => e instanceof UsageError && /f32 only/.test(e.message),
    );
    assert.throws(() => loadWasmBackendSync({ threads: 0 }), UsageError);
  });
});

/** Every kind of kernel through the ops layer, forward and backward, on one backend. */
function workload(be: Backend): Float32Array[] {
  const t = (data: Float32Array, shape: number[], grad = true) => Tensor.fromArray(data, shape, { backend: be, requiresGrad: grad });
  const x = t(random(2 * 4 * 17 * 17, 1), [2, 4, 17, 17]);
  const w = t(random(6 * 2 * 3 * 3, 2, 0.3), [6, 2, 3, 3]);
  const b = t(random(6, 3), [6]);
  let h = ops.conv2d(x, w, b, { stride: 1, padding: 1, groups: 2, relu: true });
  h = ops.localResponseNorm(h, 3, 1e-2, 0.75, 1);
  h = ops.maxPool2d(h, 3, { stride: 2, padding: 1, ceilMode: true });
  h = ops.adaptiveAvgPool2d(h, 3);
  const fw = t(random(5 * 54, 4, 0.2), [5, 54]);
  const logits = ops.linear(ops.flatten(h), fw, t(random(5, 5), [5]));
  const loss = ops.crossEntropy(logits, [1, 4]);
  const big = t(random(70_000, 6), [70_000]);
  const e = ops.sum(ops.mul(ops.exp(big), ops.dropout(big, 0.3, true, new Generator(9))));
  ops.add(loss, ops.mulScalar(e, 1e-5)).backward();
  const params = [w, b, fw].map((p) => new Float32Array(p.toArray()));
  const opt = new SGD([w, b, fw], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
  opt.step();
  opt.step();
  return [
    new Float32Array(logits.toArray()),
    new Float32Array(loss.toArray()),
    ...[x, w, b, fw, big].map((p) => new Float32Array(p.grad!.toArray())),
    ...params,
    ...[w, b, fw].map((p) => new Float32Array(p.toArray())),
  ];
}

test('one thread and two threads give identical bits for every kernel, forward and backward', () => {
  assert.equal(two.threads, 2);
  const a = workload(one);
  const b = workload(two);
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.deepEqual(b[i], v, `result ${i}`));
});

test('max pooling for inference (the SIMD paths) gives the reference values, NaN and infinities included', () => {
  const ref = referenceBackend();
  const shapes: [number[], number, number, number, boolean][] = [
    [[2, 16, 55, 55], 3, 2, 0, false], // AlexNet's 3x3/2, large enough to run on both threads of `two`
    [[1, 3, 27, 27], 3, 2, 0, false], // four outputs at a time, then the tail (small: one thread)
    [[2, 2, 13, 13], 3, 2, 0, false],
    [[1, 2, 11, 14], 2, 2, 0, false],
    [[1, 2, 12, 12], 3, 2, 1, true], // padding and ceil mode: the scalar path
    [[1, 1, 9, 20], 3, 1, 0, false],
  ];
  for (const [shape, k, stride, pad, ceil] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = random(n, 40 + n);
    for (let i = 5; i < n; i += 37) x[i] = [NaN, Infinity, -Infinity][i % 3]!;
    const g = poolGeometry(shape, [k, k], [stride, stride], [pad, pad], ceil);
    const want = ref.toArray(ref.maxPool2d(ref.fromArray(x, shape), g, false).y, [g.n, g.c, g.oh, g.ow]);
    for (const be of [one, two]) {
      const got = be.toArray(be.maxPool2d(be.fromArray(x, shape), g, false).y, [g.n, g.c, g.oh, g.ow]);
      assert.deepEqual(Array.from(got), Array.from(want), `${shape.join('x')} ${k}x${k}/${stride} pad ${pad} on ${be.threads} thread(s)`);
    }
  }
});

test('an SGD step gives the reference backend bits (PyTorch rounding) for every option, vector body and tail', () => {
  const n = 1003; // not a multiple of 4: the scalar tail runs too
  const ref = referenceBackend();
  const settings = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.01, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
    { lr: 0.03, momentum: 0.9, dampening: 0.1, weightDecay: 0, nesterov: false },
    { lr: 0.02, momentum: 0.8, dampening: 0, weightDecay: 1e-3, nesterov: true },
  ];
  for (const be of [one, two]) {
    for (const p of settings) {
      const [pw, gw, bw] = [1, 2, 3].map((seed) => be.fromArray(random(n, seed), [n]));
      const [pr, gr, br] = [1, 2, 3].map((seed) => ref.fromArray(random(n, seed), [n]));
      for (const first of [true, false, false]) {
        be.sgdStep(pw!, gw!, p.momentum ? bw! : null, n, p, first);
        ref.sgdStep(pr!, gr!, p.momentum ? br! : null, n, p, first);
      }
      assert.deepEqual(be.toArray(pw!, [n]), ref.toArray(pr!, [n]), `parameters, ${JSON.stringify(p)}`);
      assert.deepEqual(be.toArray(bw!, [n]), ref.toArray(br!, [n]), `momentum buffer, ${JSON.stringify(p)}`);
    }
  }
});

test('dropout draws the native backend mask for the same seed', { skip: native ? false : 'native addon unavailable' }, () => {
  const x = random(50_000, 11);
  for (const be of [one, two]) {
    const { mask } = be.dropout(be.fromArray(x, [50_000]), [50_000], 0.4, 123456789012);
    const theirs = native!.dropout(native!.fromArray(x, [50_000]), [50_000], 0.4, 123456789012).mask;
    assert.deepEqual(be.toArray(mask, [50_000]), native!.toArray(theirs, [50_000]));
  }
});

describe('convolution weights packed once, or Winograd-transformed once (kept until a write)', () => {
  const ref = referenceBackend();
  const xShape = [1, 4, 9, 9];
  const wShape = [6, 4, 3, 3];
  const n = 6 * 4 * 3 * 3;
  const conv = (be: Backend, x: Float32Array, w: Storage, stride: number) => {
    const g = convGeometry(xShape, wShape, [stride, stride], [1, 1], 1);
    return be.toArray(be.conv2d(be.fromArray(x, xShape), w, null, g, false, false), [g.n, g.oc, g.oh, g.ow]);
  };
  for (const be of [one, two]) {
    // 3×3 stride 1 for inference is Winograd's; stride 2 the direct path's packed panels.
    test(`every write path repacks: write, axpyInPlace, sgdStep, a reshape's write (${be.threads} thread(s))`, () => {
      const x = random(4 * 81, 50);
      const w = be.fromArray(random(n, 51), wShape);
      const wr = ref.fromArray(random(n, 51), wShape);
      const check = (what: string, stride = 1) =>
        assert.ok(relError(conv(be, x, w, stride), conv(ref, x, wr, stride)) <= 1e-6, `after ${what}`);
      check('the first forward');
      check('a second forward (the kept copy)');
      check('a forward at another stride (the same layout)', 2);
      const part = random(10, 52);
      be.write(w, 7, part, wShape);
      ref.write(wr, 7, part, wShape);
      check('write');
      const d = random(n, 53);
      be.axpyInPlace(w, be.fromArray(d, wShape), 0.5, wShape);
      ref.axpyInPlace(wr, ref.fromArray(d, wShape), 0.5, wShape);
      check('axpyInPlace');
      const sgd = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };
      be.sgdStep(w, be.fromArray(d, wShape), null, n, sgd, true);
      ref.sgdStep(wr, ref.fromArray(d, wShape), null, n, sgd, true);
      check('sgdStep');
      const flat = be.reshape(w, wShape, [n]);
      be.write(flat, 0, part, [n]);
      ref.write(wr, 0, part, wShape);
      check("a write into a reshape's view");
      const inf = x.map((v, i) => (i === 40 ? Infinity : i === 41 ? -Infinity : v));
      const got = conv(be, inf, w, 1);
      const want = conv(ref, inf, wr, 1);
      assert.ok(want.some((v) => v === Infinity) && want.some(Number.isNaN), 'the case has infinities and NaN');
      want.forEach((v, i) => {
        if (!Number.isFinite(v)) assert.ok(Object.is(got[i], v), `non-finite output ${i}: ${got[i]}, expected ${v}`);
      });
      const live = be.heap.liveBytes;
      be.dispose(flat);
      be.dispose(w);
      assert.ok(live - be.heap.liveBytes > sizeClass(n * 4), 'the packed copy is freed with its weights');
    });
  }

  test('inference, a training step, inference again give the reference backend results (the packed copies follow SGD)', () => {
    const x = random(2 * 3 * 67 * 67, 54);
    const run = (be: Backend, initial?: Map<string, Tensor>) => {
      setBackend(be);
      const model = miniAlexNet();
      if (initial) model.loadStateDict(new Map([...initial].map(([k, v]) => [k, Tensor.fromArray(v.toArray(), v.shape, { backend: be })])));
      const start = new Map([...model.stateDict()].map(([k, v]) => [k, Tensor.fromArray(v.toArray(), v.shape, { backend: ref })]));
      const input = Tensor.fromArray(x, [2, 3, 67, 67], { backend: be });
      const infer = () => {
        model.eval();
        return noGrad(() => model.forward(input).toArray());
      };
      const before = infer();
      model.train();
      const opt = new SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
      ops.crossEntropy(model.forward(input), [1, 4]).backward();
      opt.step();
      return { start, before, after: infer() };
    };
    try {
      const r = run(ref);
      const w = run(two, r.start);
      assert.ok(relError(r.after, r.before) > 1e-3, 'the step changed the logits');
      assert.ok(relError(w.before, r.before) <= 1e-5, 'before the step');
      assert.ok(relError(w.after, r.after) <= 1e-5, `after the step: ${relError(w.after, r.after)}`);
      const w1 = run(one, r.start);
      assert.deepEqual(w1.before, w.before, 'inference: one thread and two give the same bits');
      assert.deepEqual(w1.after, w.after, 'after the step: one thread and two give the same bits');
    } finally {
      setBackend(referenceBackend());
    }
  });
});

test('a training step of alexnet-v1 matches the reference backend', () => {
  const opts = { numClasses: 10, inputSize: 67, dropout: 0 };
  const step = (be: Backend, state?: Map<string, Tensor>) => {
    setBackend(be);
    const model = createModel('alexnet-v1', { ...opts, init: state ? 'none' : 'pytorch', rng: new Generator(3) });
    if (state) model.loadStateDict(new Map([...state].map(([k, v]) => [k, Tensor.fromArray(v.toArray(), v.shape, { backend: be })])));
    const before = new Map(
      [...model.stateDict()].map(([k, v]) => [k, Tensor.fromArray(v.toArray(), v.shape, { backend: referenceBackend() })]),
    );
    const x = Tensor.fromArray(random(2 * 3 * 67 * 67, 21), [2, 3, 67, 67], { backend: be });
    const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const loss = ops.crossEntropy(model.forward(x), [3, 7]);
    loss.backward();
    opt.step();
    return { loss: loss.item(), before, after: model.stateDict() };
  };
  try {
    const ref = step(referenceBackend());
    const wasm = step(two, ref.before);
    assert.ok(Math.abs(wasm.loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${wasm.loss} vs ${ref.loss}`);
    for (const [k, v] of ref.after) {
      const err = relError(wasm.after.get(k)!.toArray(), v.toArray());
      assert.ok(err <= 1e-5, `${k} after one step differs by ${err}`);
    }
  } finally {
    setBackend(referenceBackend());
  }
});

describe('hostile geometry is rejected before any kernel runs', () => {
  const good = convGeometry([1, 4, 8, 8], [6, 2, 3, 3], [1, 1], [1, 1], 2);
  const cases: [string, Partial<ConvGeometry>][] = [
    ['an output size that does not follow', { oh: 9 }],
    ['groups that do not divide the channels', { groups: 3 }],
    ['a negative padding', { padW: -1 }],
    ['a fractional field', { kh: 2.5 }],
    ['a batch too large for 32-bit indexing', { n: 2 ** 28 }],
    ['a non-number', { strideH: 'x' } as unknown as Partial<ConvGeometry>],
  ];
  for (const be of [one, two]) {
    for (const [what, change] of cases) {
      test(`conv2d with ${what} (${be.threads} thread${be.threads > 1 ? 's' : ''})`, () => {
        const x = be.fromArray(random(4 * 64, 1), [1, 4, 8, 8]);
        const w = be.fromArray(random(6 * 18, 2), [6, 2, 3, 3]);
        const calls = spyKernels(be);
        const live = be.heap.liveBytes;
        const g = { ...good, ...change };
        assert.throws(() => be.conv2d(x, w, null, g, false), what === 'a non-number' ? Error : ShapeError);
        assert.throws(() => be.conv2dBackwardData(x, w, g), Error);
        assert.throws(() => be.conv2dBackwardWeights(x, x, g, true), Error);
        assert.equal(calls.count, 0, 'no kernel ran');
        assert.equal(be.heap.liveBytes, live, 'nothing was allocated');
        calls.restore();
      });
    }
  }
  test('a size past the limit names the backend whose limit it is (wasm here, webgpu in its own checks)', () => {
    const huge = { m: 2 ** 16, k: 2 ** 15, n: 1 };
    const x = one.fromArray(random(4, 1), [2, 2]);
    assert.throws(
      () => one.linear(x, x, null, huge, false),
      (e: unknown) =>
        e instanceof ShapeError && e.message === "linear: input would hold 2147483648 elements, more than the wasm backend's 1073741824",
    );
    assert.throws(
      () => checkWebGpuLinear(huge),
      (e: unknown) =>
        e instanceof ShapeError && e.message === "linear: input would hold 2147483648 elements, more than the webgpu backend's 1073741824",
    );
  });
  test('tensors smaller than the geometry says, and a pool window past the input', () => {
    const be = two;
    const calls = spyKernels(be);
    const small = be.fromArray(random(10, 1), [10]);
    const w = be.fromArray(random(6 * 18, 2), [6, 2, 3, 3]);
    assert.throws(() => be.conv2d(small, w, null, good, false), /holds 10 elements, expected 256/);
    const pool: PoolGeometry = {
      n: 1,
      c: 1,
      h: 4,
      w: 4,
      kh: 2,
      kw: 2,
      oh: 9,
      ow: 2,
      strideH: 2,
      strideW: 2,
      padH: 0,
      padW: 0,
      padBottom: 0,
      padRight: 0,
    };
    assert.throws(() => be.maxPool2d(be.fromArray(random(16, 3), [1, 1, 4, 4]), pool, true), ShapeError);
    assert.throws(() => be.linear(small, small, null, { m: 5, k: 2, n: 4 }, false), /holds 10 elements, expected 8/);
    assert.equal(calls.count, 0);
    calls.restore();
  });
});

/** Counts the kernel calls that go through the pool (every kernel that touches tensors). */
function spyKernels(be: WasmBackend): { count: number; restore: () => void } {
  const pool = be.pool as unknown as { run: (...a: unknown[]) => void };
  const original = pool.run;
  const spy = { count: 0, restore: () => void (pool.run = original) };
  pool.run = (...a: unknown[]) => {
    spy.count++;
    original.apply(be.pool, a);
  };
  return spy;
}

describe('dead workers', () => {
  test('a worker that exits makes the next parallel kernel fail clearly', async () => {
    const be = loadWasmBackendSync({ threads: 2, ackTimeoutMs: 2000 });
    const x = be.fromArray(random(100_000, 1), [100_000]);
    be.relu(x, [100_000]);
    be.pool.links[0]!.terminate();
    for (let i = 0; i < 250; i++) {
      await new Promise((r) => setTimeout(r, 20));
      try {
        be.relu(x, [100_000]);
      } catch (err) {
        assert.match((err as Error).message, /wasm backend: worker thread 1 of 2 exited .*cannot run kernels/);
        assert.throws(() => be.relu(x, [100_000]), /worker thread 1 of 2 exited/, 'and every call after');
        const small = be.fromArray(Float32Array.from([-1, 2]), [2]);
        assert.deepEqual(Array.from(be.toArray(be.relu(small, [2]), [2])), [0, 2], 'small work still runs on this thread');
        be.close();
        return;
      }
    }
    assert.fail('the exit of a worker was never noticed');
  });

  test('a kernel that traps, on the calling thread and on a worker, is an error naming it; the pool stays usable', () => {
    const be = loadWasmBackendSync({ threads: 2, ackTimeoutMs: 2000 });
    const beyond = be.heap.capacity + 65536; // past the end of the memory: every access traps
    assert.throws(() => be.pool.run('relu_f32', [beyond, beyond, 100_000]), /kernel relu_f32 trapped: .*out of bounds/);
    // Only the worker's half (elements 50..99) reaches past the end: the error comes from thread 1.
    // (This backend is thrown away: the in-place ReLU may touch its last bytes.)
    const edge = be.heap.capacity - 60 * 4;
    assert.throws(() => be.pool.run('relu_f32', [edge, edge, 100], 2), /kernel relu_f32 failed on worker thread 1: .*out of bounds/);
    assert.deepEqual(Array.from(be.toArray(be.relu(be.fromArray(Float32Array.from([-1, 3]), [2]), [2]), [2])), [0, 3]);
    const big = be.fromArray(random(100_000, 5), [100_000]);
    assert.equal(be.toArray(be.relu(big, [100_000]), [100_000]).length, 100_000, 'parallel kernels still run');
    be.close();
  });

  test('a worker that never takes up a job is given up after the timeout, not waited for forever', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const fake = { relu_f32: () => {} } as unknown as ConstructorParameters<typeof ThreadPool>[0];
    const pool = new ThreadPool(
      fake,
      2,
      { spawn: () => ({ terminate: () => {} }) },
      { module: null as unknown as WebAssembly.Module, memory },
      [1024],
      {
        ackTimeoutMs: 300,
      },
    );
    Atomics.store(new Int32Array(pool.control), READY, 1); // as if the worker had started, then died
    pool.waitReadySync(1000);
    const t0 = Date.now();
    assert.throws(() => pool.run('relu_f32', [0, 0, 0]), /worker thread 1 of 2 did not respond within 0.3 s/);
    assert.ok(Date.now() - t0 < 5000);
    assert.throws(() => pool.run('relu_f32', [0, 0, 0]), /cannot run kernels/);
  });
});

test('worker threads never keep a process alive', () => {
  const script = `import('${new URL('../src/backend/wasm/node.js', import.meta.url).href}').then((m) => {
    const be = m.loadWasmBackendSync({ threads: 2 });
    const x = be.fromArray(new Float32Array(100000).fill(-1), [100000]);
    process.stdout.write(String(be.toArray(be.relu(x, [100000]), [100000])[0]));
  });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.signal, null, 'the process had to be killed');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '0');
});
