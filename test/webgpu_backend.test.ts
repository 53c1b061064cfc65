// The webgpu backend's own tests (conformance.test.ts proves its ops against PyTorch), on Dawn
// over SwiftShader here: a whole alexnet-2012 forward and backward against the native backend,
// training steps against the reference backend, the native and wasm backends' dropout mask bit
// for bit, data that stays on the GPU until asked (reads counted), `await tensor.data()` and
// runAsync, float64 through the reference kernels, and the failures a user can meet, each one
// clear error and never a hang: a buffer larger than the GPU allows (naming the shape), a device
// lost mid-run, a worker that stops answering or exits, no adapter at all (the CLI's one line),
// a process exiting with GPU work queued, and Ctrl-C on a real process blocked on the GPU. Shapes are small: SwiftShader runs the GPU on
// the CPU.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Backend } from '../src/backend/backend.js';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { loadWasmBackendSync } from '../src/backend/wasm/node.js';
import { loadWebGpuBackendSync } from '../src/backend/webgpu/node.js';
import { DeviceError } from '../src/errors.js';
import { AlexNet } from '../src/models/alexnet_base.js';
import { ReLU } from '../src/nn/activation.js';
import { Conv2d } from '../src/nn/conv.js';
import { Dropout } from '../src/nn/dropout.js';
import { Linear } from '../src/nn/linear.js';
import { LocalResponseNorm } from '../src/nn/lrn.js';
import type { Module } from '../src/nn/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../src/nn/pool.js';
import { Sequential } from '../src/nn/sequential.js';
import * as ops from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { Tensor, tidy } from '../src/tensor.js';
import { relError } from './helpers.js';
import { native } from './native_helpers.js';
import { finished, runCli, tempDir, tinyFashionMnist } from './train_helpers.js';
import { vulkanEnv, webGpuForTests } from './webgpu_backend_helpers.js';

const { backend: gpu, reason } = webGpuForTests();
const skip = gpu ? false : reason;

function random(n: number, seed: number, scale = 1): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => (g.uniform() * 2 - 1) * scale);
}

/** A parameter's values moved to the reference backend (a copy that outlives its backend's tensors). */
const onReference = (t: Tensor) => Tensor.fromArray(t.toArray(), t.shape, { backend: referenceBackend() });

/**
 * An AlexNet-2012 as narrow as SwiftShader allows (the real classifier's 9216×4096 products take
 * minutes on a CPU-run GPU): two towers (groups 2), LRN, overlapping max pools, the adaptive
 * average pool and a dropout classifier, its masks drawn from `seed`.
 */
function narrowAlexNet2012(dropout: number, seed: number): AlexNet {
  const lrn = () => new LocalResponseNorm(5, 1e-4, 0.75, 2);
  const rng = new Generator(seed);
  const features = new Sequential(
    new Conv2d(3, 16, 11, { stride: 4, padding: 2 }),
    new ReLU(),
    lrn(),
    new MaxPool2d(3, 2),
    new Conv2d(16, 24, 5, { padding: 2, groups: 2 }),
    new ReLU(),
    lrn(),
    new MaxPool2d(3, 2),
    new Conv2d(24, 32, 3, { padding: 1 }),
    new ReLU(),
    new Conv2d(32, 32, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new Conv2d(32, 16, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new MaxPool2d(3, 2),
  );
  const classifier = new Sequential(
    new Dropout(dropout, rng),
    new Linear(16 * 9, 64),
    new ReLU(),
    new Dropout(dropout, rng),
    new Linear(64, 64),
    new ReLU(),
    new Linear(64, 10),
  );
  const layers: [string, Module][] = [
    ['features', features],
    ['avgpool', new AdaptiveAvgPool2d(3)],
    ['classifier', classifier],
  ];
  return new AlexNet('alexnet-2012', layers, 2, [3, 67, 67], 10);
}

/** The model on backend `b` with `state`'s values (from another backend), or its own initial ones. */
function build(b: Backend, dropout: number, state?: Map<string, Tensor>): AlexNet {
  setBackend(b);
  const model = narrowAlexNet2012(dropout, 17);
  if (state) model.loadStateDict(new Map([...state].map(([k, v]) => [k, Tensor.fromArray(v.toArray(), v.shape, { backend: b })])));
  return model;
}

const stateOf = (model: AlexNet) => new Map([...model.stateDict()].map(([k, v]) => [k, onReference(v)]));
const batch = (b: Backend, seed: number) => Tensor.fromArray(random(2 * 3 * 67 * 67, seed), [2, 3, 67, 67], { backend: b });

describe('webgpu backend: models', { skip }, () => {
  const be = gpu!;

  test(
    'a narrow AlexNet-2012 in training mode (dropout): forward and backward match the native backend',
    { skip: native ? false : 'native addon unavailable' },
    () => {
      const run = (b: Backend, state?: Map<string, Tensor>) => {
        const model = build(b, 0.5, state);
        const out = model.forward(batch(b, 9));
        const loss = ops.crossEntropy(out, [1, 8]);
        loss.backward();
        const grads = new Map([...model.namedParameters()].map(([k, p]) => [k, p.grad!.toArray()]));
        return { state: stateOf(model), out: out.toArray(), loss: loss.item(), grads };
      };
      try {
        const theirs = run(native!);
        const ours = run(be, theirs.state);
        // f32 on both, different summation orders: 1e-4 of each tensor's range (conformance's bound).
        assert.ok(relError(ours.out, theirs.out) <= 1e-4, `output differs by ${relError(ours.out, theirs.out)}`);
        assert.ok(Math.abs(ours.loss - theirs.loss) <= 1e-4 * Math.abs(theirs.loss), `loss ${ours.loss} vs ${theirs.loss}`);
        for (const [k, g] of theirs.grads) {
          const err = relError(ours.grads.get(k)!, g);
          assert.ok(err <= 1e-4, `grad ${k} differs by ${err}`);
        }
      } finally {
        setBackend(referenceBackend());
      }
    },
  );

  test('three SGD steps (momentum, weight decay) match the reference backend', () => {
    const train = (b: Backend, state?: Map<string, Tensor>) => {
      const model = build(b, 0, state);
      const initial = stateOf(model);
      const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
      const losses: number[] = [];
      for (let step = 0; step < 3; step++) {
        opt.zeroGrad();
        const loss = ops.crossEntropy(model.forward(batch(b, 21 + step)), [3, 7 - step]);
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      return { initial, losses, after: new Map([...model.stateDict()].map(([k, v]) => [k, v.toArray()])) };
    };
    try {
      const ref = train(referenceBackend());
      const ours = train(be, ref.initial);
      ref.losses.forEach((l, i) => assert.ok(Math.abs(ours.losses[i]! - l) <= 1e-4 * Math.abs(l), `loss ${i}: ${ours.losses[i]} vs ${l}`));
      for (const [k, v] of ref.after) {
        const err = relError(ours.after.get(k)!, v);
        assert.ok(err <= 1e-4, `${k} after three steps differs by ${err}`);
      }
    } finally {
      setBackend(referenceBackend());
    }
  });

  test('dropout draws the wasm and native backends’ mask for the same seed, bit for bit', () => {
    const x = random(70_000, 11);
    for (const [p, seed] of [
      [0.4, 123456789012],
      [0.5, 7],
      [0, 3],
      [1, 3],
    ] as const) {
      const ours = be.toArray(be.dropout(be.fromArray(x, [70_000]), [70_000], p, seed).mask, [70_000]);
      const wasm = loadWasmBackendSync({ threads: 1 });
      assert.deepEqual(ours, wasm.toArray(wasm.dropout(wasm.fromArray(x, [70_000]), [70_000], p, seed).mask, [70_000]), `p ${p}`);
      if (native) assert.deepEqual(ours, native.toArray(native.dropout(native.fromArray(x, [70_000]), [70_000], p, seed).mask, [70_000]));
    }
  });
});

describe('webgpu backend: data stays on the GPU', { skip }, () => {
  const be = gpu!;

  test('a forward and backward pass and an SGD step read nothing back; toArray reads once', () => {
    try {
      const model = build(be, 0.5);
      const before = be.reads;
      const out = model.forward(batch(be, 2));
      out.backward(Tensor.ones(out.shape, { backend: be }));
      new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }).step();
      assert.equal(be.reads, before, 'no read before one is asked for');
      out.toArray();
      assert.equal(be.reads, before + 1);
    } finally {
      setBackend(referenceBackend());
    }
  });

  test('await tensor.data() and runAsync do not block and give the values', async () => {
    const t = Tensor.fromArray([1, -2, 3, NaN], [4], { backend: be });
    const before = be.reads;
    const y = await be.runAsync(() => ops.relu(t));
    assert.equal(be.reads, before, 'runAsync waits for the GPU without reading');
    assert.deepEqual(Array.from(await y.data()), [1, 0, 3, NaN]);
    assert.equal(be.reads, before + 1);
    // A backend without toArrayAsync falls back to toArray.
    assert.deepEqual(Array.from(await Tensor.fromArray([4, 5], [2], { backend: referenceBackend() }).data()), [4, 5]);
  });

  test('GPU buffers are freed on dispose and by tidy', () => {
    const before = be.liveBuffers;
    const kept = tidy(() => {
      const x = Tensor.fromArray(random(64, 1), [8, 8], { backend: be });
      return ops.relu(ops.mul(ops.reshape(x, [64]), ops.reshape(x, [64])));
    });
    assert.equal(be.liveBuffers, before + 1, 'tidy freed all but the result');
    kept.dispose();
    assert.equal(be.liveBuffers, before);
  });

  test('GPU buffers of garbage-collected tensors are freed (a process with --expose-gc)', async () => {
    const script = join(tempDir('webgpu-gc'), 'gc.mjs');
    const lib = (path: string) => JSON.stringify(pathToFileURL(fileURLToPath(new URL(path, import.meta.url))).href);
    writeFileSync(
      script,
      `import { loadWebGpuBackendSync } from ${lib('../src/backend/webgpu/node.js')};
import { Tensor } from ${lib('../src/tensor.js')};
const be = loadWebGpuBackendSync();
(() => { for (let i = 0; i < 50; i++) Tensor.fromArray(new Float32Array(16).fill(i), [16], { backend: be }); })();
const made = be.liveBuffers;
for (let i = 0; i < 100 && be.liveBuffers > 0; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
const t = Tensor.fromArray([1, 2], [2], { backend: be });
console.log(JSON.stringify({ made, left: be.liveBuffers - 1, values: Array.from(t.toArray()) }));
`,
    );
    const child = spawn(process.execPath, ['--expose-gc', script], {
      env: { ...process.env, ...vulkanEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await finished(child);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { made: number; left: number; values: number[] };
    assert.equal(out.made, 50);
    assert.equal(out.left, 0, 'unreachable storages were collected and their buffers freed');
    assert.deepEqual(out.values, [1, 2], 'the worker freed them without error');
  });

  test('float64 tensors run on the reference kernels', () => {
    const a = Tensor.fromArray(Float64Array.from([1e-20, 2, 3]), [3], { backend: be });
    const y = ops.add(a, a);
    assert.equal(y.dtype, 'float64');
    assert.deepEqual(Array.from(y.toArray()), [2e-20, 4, 6]);
  });
});

describe('webgpu backend: failures are one clear error, never a hang', { skip }, () => {
  test('a tensor larger than the GPU’s largest buffer: an error naming its shape, and the backend goes on', () => {
    const be = gpu!;
    const rows = Math.ceil(be.maxBufferBytes / 4 / 1024) + 1;
    assert.throws(
      () => Tensor.zeros([rows, 1024], { backend: be }),
      (e: Error) => e instanceof DeviceError && e.message.includes(`[${rows}, 1024]`) && /out of GPU memory/.test(e.message),
    );
    assert.deepEqual(Array.from(Tensor.fromArray([1, 2], [2], { backend: be }).toArray()), [1, 2]);
  });

  test('a device lost mid-run: the next read and every later call throw the same DeviceError', () => {
    const be = loadWebGpuBackendSync({ stallMs: 10_000 });
    const x = be.fromArray(random(1000, 1), [1000]);
    be.toArray(be.relu(x, [1000]), [1000]);
    const y = be.unary('exp', x, [1000]);
    be.debugFail('destroy-device');
    const lost = (e: Error) => e instanceof DeviceError && /WebGPU device lost \(destroyed\)/.test(e.message);
    assert.throws(() => be.toArray(y, [1000]), lost);
    assert.throws(() => be.toArray(x, [1000]), lost);
    assert.throws(() => be.relu(x, [1000]), lost);
    assert.throws(() => be.fromArray(new Float32Array(4), [4]), lost);
  });

  for (const what of ['hang', 'exit'] as const) {
    test(`a GPU worker that ${what === 'hang' ? 'stops answering' : 'exits'}: the blocked read throws within seconds`, async () => {
      const be = loadWebGpuBackendSync({ stallMs: 1000 });
      const x = be.fromArray(random(100, 1), [100]);
      be.toArray(x, [100]);
      be.debugFail(what);
      if (what === 'exit') await sleep(10); // the 'exit' event may or may not come before the read
      const t0 = Date.now();
      assert.throws(
        () => be.toArray(x, [100]),
        (e: Error) => e instanceof DeviceError && /stopped answering|exited/.test(e.message),
      );
      assert.ok(Date.now() - t0 < 10_000);
      await assert.rejects(be.toArrayAsync(x, [100]), DeviceError);
    });
  }

  test('no adapter (no Vulkan driver): one line naming VK_ICD_FILENAMES, exit 1', () => {
    const data = tinyFashionMnist(4, 2);
    const out = join(tempDir('webgpu-none'), 'run');
    const args = ['train', '--dataset', `fashion-mnist=${data}`, '--arch', 'alexnet-v1', '--input-size', '65', '--backend', 'webgpu'];
    const r = runCli([...args, '--epochs', '1', '--out', out], { VK_ICD_FILENAMES: '/nonexistent/icd.json' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^alexnet: webgpu backend unavailable: no WebGPU adapter: .*VK_ICD_FILENAMES/m);
    assert.doesNotMatch(r.stderr, /internal error/);
  });

  test('a process that exits with GPU work still queued exits cleanly (the worker stops between two commands)', async () => {
    // Node stops worker threads at exit; one stopped inside a Dawn call, or with a Dawn promise
    // pending, aborted the process (FATAL ERROR … napi_throw, exit 134) before the exit hook.
    const script = join(tempDir('webgpu-exit'), 'exit.mjs');
    const lib = pathToFileURL(fileURLToPath(new URL('../src/backend/webgpu/node.js', import.meta.url))).href;
    writeFileSync(
      script,
      `import { loadWebGpuBackendSync } from ${JSON.stringify(lib)};
const be = loadWebGpuBackendSync();
const n = 1 << 18;
let x = be.fromArray(new Float32Array(n).fill(1), [n]);
be.toArray(x, [n]);
for (let i = 0; i < 300; i++) x = be.unary('exp', be.scalar('mul', x, 0.5, [n]), [n]);
console.log('queued');
`,
    );
    const r = await finished(
      spawn(process.execPath, [script], { env: { ...process.env, ...vulkanEnv() }, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /queued/);
    assert.doesNotMatch(r.stderr, /FATAL|not resolved/);
  });

  test('Ctrl-C stops a real process blocked on the GPU at once (no worker or Dawn thread holds it)', { timeout: 60_000 }, async () => {
    // A process that keeps the GPU busy and blocks on reads, as a CLI command does mid-run.
    const script = join(tempDir('webgpu-sigint'), 'busy.mjs');
    const lib = pathToFileURL(fileURLToPath(new URL('../src/backend/webgpu/node.js', import.meta.url))).href;
    writeFileSync(
      script,
      `import { loadWebGpuBackendSync } from ${JSON.stringify(lib)};
const be = loadWebGpuBackendSync();
const n = 1 << 20;
let x = be.fromArray(new Float32Array(n).fill(1), [n]);
console.log('busy');
for (;;) { for (let i = 0; i < 20; i++) x = be.unary('exp', be.scalar('mul', x, 0.5, [n]), [n]); be.toArray(x, [n]); }
`,
    );
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...vulkanEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    const done = finished(child);
    await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('busy') && resolve()));
    await sleep(500);
    const sent = Date.now();
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.signal, 'SIGINT', r.stdout + r.stderr);
    assert.ok(Date.now() - sent < 5000, `exited ${Date.now() - sent} ms after the signal`);
  });
});
