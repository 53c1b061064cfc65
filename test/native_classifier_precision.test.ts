// Low-precision classifier weights on the native backend (`classifierPrecision`, CLI
// `--classifier-precision`): in inference, linear layers read a bf16 or int8 copy of their f32
// weights. bf16 rounds x and w to 8 significant bits (relative error ≤ 2^-9 each) and accumulates
// in f32: max|diff| / max|f32| stays below 1% (tolerance 2e-2, as in native_bf16.test.ts). int8
// rounds each weight to its row's scale (max|w_row| / 127) and each input row to its own scale:
// an element's error is at most half a step (1/254 of the row's largest magnitude), and over a
// dot product the errors partly cancel, so max|diff| / max|f32| stays near 1% (tolerance 3e-2).
// Training (gradients recorded) always reads the f32 weights, bit for bit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ClassifierPrecision, LinearGeometry } from '../src/backend/backend.js';
import { tryLoadNative } from '../src/backend/native/load.js';
import { NativeBackend } from '../src/backend/native/native_backend.js';
import { getBackend, setBackend } from '../src/backend/registry.js';
import { UsageError } from '../src/errors.js';
import { Tensor, noGrad } from '../src/tensor.js';
import { miniAlexNet } from './mini_alexnet.js';
import { native, randomArray, relError, skip } from './native_helpers.js';

function withClassifier(classifierPrecision: ClassifierPrecision): NativeBackend {
  const r = tryLoadNative({ classifierPrecision });
  assert.ok(r.backend instanceof NativeBackend, r.reason);
  return r.backend;
}

const TOL: Record<'bf16' | 'int8', number> = { bf16: 2e-2, int8: 3e-2 };
const lowPrecisions = skip ? [] : (['bf16', 'int8'] as const);

for (const p of lowPrecisions) {
  test(`${p} classifier weights: linear within ${TOL[p]} of f32, rounding visible, weights re-read after a write`, () => {
    const nb = withClassifier(p);
    const f32 = native!;
    const g: LinearGeometry = { m: 5, k: 300, n: 40 };
    const x = f32.fromArray(randomArray(g.m * g.k, 21), [g.m, g.k]);
    const w = f32.fromArray(randomArray(g.n * g.k, 22, 0.1), [g.n, g.k]);
    const b = f32.fromArray(randomArray(g.n, 23), [g.n]);
    const shape = [g.m, g.n];
    const want = f32.toArray(f32.linear(x, w, b, g, true), shape);
    const got = nb.toArray(nb.linear(x, w, b, g, true, false), shape);
    const err = relError(got, want);
    assert.ok(err <= TOL[p], `relative error ${err}`);
    assert.ok(err > 1e-6, `${p} weights gave f32-exact results`);
    assert.ok(
      got.every((v) => v >= 0),
      'ReLU applied',
    );
    // Training reads the f32 weights: identical to the f32 backend.
    assert.deepEqual(nb.toArray(nb.linear(x, w, b, g, true, true), shape), want);
    // A write to the weights invalidates the cached low-precision copy.
    f32.write(w, 0, randomArray(g.n * g.k, 24, 0.1), [g.n, g.k]);
    const want2 = f32.toArray(f32.linear(x, w, b, g, false), shape);
    const err2 = relError(nb.toArray(nb.linear(x, w, b, g, false, false), shape), want2);
    assert.ok(err2 <= TOL[p], `after a write: relative error ${err2}`);
  });

  test(`${p} classifier weights: the mini AlexNet's logits within ${TOL[p]} of f32, sync and async; training forward stays f32`, async () => {
    const f32 = native!;
    const nb = withClassifier(p);
    const before = getBackend();
    try {
      setBackend(f32);
      const m32 = miniAlexNet();
      m32.eval();
      const x = Tensor.fromArray(randomArray(3 * 3 * 67 * 67, 25), [3, 3, 67, 67]);
      const want = noGrad(() => m32.forward(x).toArray());
      setBackend(nb);
      const mlow = miniAlexNet();
      mlow.eval();
      const params = m32.parameters();
      mlow.parameters().forEach((q, i) => q.write(0, Float32Array.from(params[i]!.toArray())));
      const xl = Tensor.fromArray(x.toArray(), x.shape);
      const got = noGrad(() => mlow.forward(xl).toArray());
      const err = relError(got, want);
      assert.ok(err <= TOL[p] && err > 0, `logits: relative error ${err}`);
      assert.deepEqual(await mlow.forwardAsync(xl).then((t) => t.toArray()), got, 'the async forward computes the same');
      // With gradients recorded (the weights require grad) the classifier reads the f32 weights.
      setBackend(f32);
      const train32 = m32.forward(x).toArray();
      setBackend(nb);
      assert.deepEqual(mlow.forward(xl).toArray(), train32);
    } finally {
      setBackend(before);
    }
  });
}

test('int8 classifier weights: NaN and infinities flow as in f32', { skip }, () => {
  const nb = withClassifier('int8');
  const f32 = native!;
  const g: LinearGeometry = { m: 3, k: 64, n: 8 };
  const xs = randomArray(g.m * g.k, 31);
  xs[70] = NaN; // row 1
  xs[150] = Infinity; // row 2
  const x = f32.fromArray(xs, [g.m, g.k]);
  const ws = randomArray(g.n * g.k, 32, 0.1);
  const w = f32.fromArray(ws, [g.n, g.k]);
  const want = f32.toArray(f32.linear(x, w, null, g, false), [g.m, g.n]);
  const got = nb.toArray(nb.linear(x, w, null, g, false, false), [g.m, g.n]);
  got.forEach((v, i) => assert.equal(Number.isNaN(v), Number.isNaN(want[i]!), `element ${i}: ${v} vs ${want[i]}`));
  assert.ok(relError(got.slice(0, g.n), want.slice(0, g.n)) <= TOL.int8, 'the finite row');
  // A NaN weight: its output column is NaN for every row, as in f32.
  ws[5 * g.k + 3] = NaN;
  const w2 = f32.fromArray(ws, [g.n, g.k]);
  const x2 = f32.fromArray(randomArray(g.m * g.k, 33), [g.m, g.k]);
  const got2 = nb.toArray(nb.linear(x2, w2, null, g, false, false), [g.m, g.n]);
  got2.forEach((v, i) => assert.equal(Number.isNaN(v), i % g.n === 5, `element ${i}: ${v}`));
});

test('classifier precision: refusals (another backend, an unknown value, training, the CLI)', { skip }, () => {
  assert.throws(
    () => setBackend('reference', { classifierPrecision: 'int8' }),
    (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /classifier precision int8 needs the native backend \(the reference backend is chosen\)/);
      return true;
    },
  );
  assert.throws(() => tryLoadNative({ classifierPrecision: 'fp8' as ClassifierPrecision }), UsageError);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/alexnet.js', ...args], { encoding: 'utf8' });
  const train = cli('bench', '--arch', 'alexnet', '--mode', 'train', '--classifier-precision', 'int8');
  assert.equal(train.status, 2, train.stderr);
  assert.match(train.stderr, /--classifier-precision is for f32 or bf16 inference/);
  const bad = cli('predict', 'x.jpg', '--weights', 'w.pth', '--classifier-precision', 'fp8');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /classifier-precision.*fp8/);
  // A quantized int8 model (a safetensors header saying so is what the check reads): its classifier is int8 already.
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-classifier-'));
  try {
    const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'alexnet-int8' } }));
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(header.length));
    const q = join(dir, 'q.safetensors');
    writeFileSync(q, Buffer.concat([size, header]));
    const quantized = cli('predict', 'x.jpg', '--weights', q, '--classifier-precision', 'bf16');
    assert.equal(quantized.status, 2, quantized.stderr);
    assert.match(quantized.stderr, /--classifier-precision bf16 is for f32 weights: .*q\.safetensors is a quantized int8 model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
