// The webgpu backend's precision 'f16' (weights stored as f16, arithmetic in f32), on Dawn over
// SwiftShader here. SwiftShader offers no `shader-f16`, so what runs is the packed variant (two
// halves per u32 word, read with unpack2x16float); the native variant (`enable f16;`, array<f16>)
// cannot run on these machines and is checked as source only: it must differ from the packed
// source in the weight binding and load functions and nowhere else. Proven here: the f32→f16
// conversion kernel bit for bit against an independent TypeScript rounding; the convolution GEMM,
// the linear GEMM and the matrix–vector kernel with packed weights against the reference kernels
// on f16-rounded weights (f32 tolerance) and on the f32 weights (the bound f16 rounding allows);
// a whole small AlexNet's logits; the f16 copies remade after an SGD step and a write, and freed
// with their weights; the precision choice and its errors on the command line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ConvGeometry, LinearGeometry } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import * as refConv from '../src/backend/reference/conv.js';
import * as refLinear from '../src/backend/reference/linear.js';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { conv2d, conv2dSource } from '../src/backend/webgpu/kernels/conv.js';
import { WEIGHT_LOADS, f16Bytes, packF16, type WeightFormat } from '../src/backend/webgpu/kernels/f16.js';
import { linear, linearSource } from '../src/backend/webgpu/kernels/linear.js';
import { gemvApplies } from '../src/backend/webgpu/kernels/linear_gemv.js';
import { loadWebGpuBackendSync } from '../src/backend/webgpu/node.js';
import { UsageError } from '../src/errors.js';
import { SGD } from '../src/optim/index.js';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { relError } from './helpers.js';
import { miniAlexNet } from './mini_alexnet.js';
import { assertClose } from './reference_helpers.js';
import { native } from './native_helpers.js';
import { runCli, tempDir } from './train_helpers.js';
import { vulkanEnv } from './webgpu_backend_helpers.js';
import { f16Bits, f16Round, f16RoundAll } from './webgpu_f16_helpers.js';
import { download, openContext, random, upload } from './webgpu_kernels_helpers.js';

vulkanEnv();
const opened = await openContext();
const skip = 'reason' in opened ? opened.reason : false;
after(() => {
  if (!('reason' in opened)) opened.close();
});

/** f32 accumulation over `k` terms of size ≤ 1 against the reference's float64 sums (webgpu_kernels.test.ts's bound). */
function tol(k: number): { atol: number; rtol: number } {
  return { atol: 2e-6 * Math.max(k, 16), rtol: 1e-5 };
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const abs = (a: ArrayLike<number>) => Float32Array.from(a, Math.abs);

/** The f16 copy of `w` made by the packF16 kernel, as a buffer of f16Bytes(w.length) bytes. */
function packed(w: Float32Array<ArrayBuffer>): GPUBuffer {
  if ('reason' in opened) throw new Error(opened.reason);
  const { ctx } = opened;
  const src = upload(ctx, w);
  const half = ctx.buffer(f16Bytes(w.length));
  packF16(ctx, [src, half], { n: w.length });
  ctx.flush(); // before the source is destroyed
  src.destroy();
  return half;
}

/**
 * f16 against f32 weights: |y16 − y32| ≤ Σ|x|·|w − ŵ| (the products differ only in the weights)
 * plus f32 rounding; `bound` is that sum, the same layer applied to |x| and |w − ŵ|. Round to
 * nearest even keeps |w − ŵ| ≤ 2⁻¹¹·|w| (checked too), so f16 costs at most ~5e-4 of Σ|x·w|.
 */
function checkAgainstF32(got: Float32Array, f32: ArrayLike<number>, bound: ArrayLike<number>, k: number, what: string): void {
  const t = tol(k);
  let differs = false;
  got.forEach((v, i) => {
    const e = f32[i]!;
    if (v !== e) differs = true;
    assert.ok(
      Math.abs(v - e) <= bound[i]! + t.atol + t.rtol * Math.abs(e),
      `${what}: element ${i} is ${v}, f32 gives ${e}, bound ${bound[i]}`,
    );
  });
  assert.ok(differs, `${what}: the f16 result equals the f32 one exactly (were the weights rounded at all?)`);
}

describe('f16 weights: the conversion kernel', { skip }, () => {
  test('packF16 rounds to nearest even, bit for bit with the TypeScript rounding (specials, ties, subnormals, overflow)', async () => {
    if ('reason' in opened) return;
    const specials = [
      0,
      -0,
      1,
      -1,
      65504,
      65519.99,
      65520,
      -65520,
      65536,
      1e10,
      Infinity,
      -Infinity,
      2 ** -14,
      2 ** -24,
      -(2 ** -24),
      2 ** -25 /* tie → 0 */,
      1.5 * 2 ** -25,
      3 * 2 ** -25 /* tie → 2·2^-24 */,
      2 ** -26,
      1e-45 /* f32 subnormal */,
      1 + 2 ** -11 /* tie → 1 */,
      1 + 3 * 2 ** -11 /* tie → 1 + 2^-9 */,
      1025.5 /* tie → 1026 */,
      2047.75,
      0.1,
      -3.14159,
      2 ** -14 - 2 ** -25 /* rounds up to the smallest normal */,
      65503.99,
    ];
    const rng = random(4001, 5); // odd: the last word's high half is zero
    const values = Float32Array.from([...specials, ...Array.from(rng, (v, i) => v * 2 ** ((i % 48) - 30))]);
    const words = new Uint32Array(await opened.ctx.read(packed(values), f16Bytes(values.length)));
    values.forEach((v, i) => {
      const bits = (words[i >> 1]! >>> (16 * (i & 1))) & 0xffff;
      assert.equal(bits, f16Bits(v), `${v} (element ${i}): 0x${bits.toString(16)}, expected 0x${f16Bits(v).toString(16)}`);
    });
    assert.equal(words[words.length - 1]! >>> 16, 0, 'the padding half of an odd count is zero');
    const nan = new Uint32Array(await opened.ctx.read(packed(Float32Array.from([NaN, -NaN])), 4))[0]!;
    for (const h of [nan & 0xffff, nan >>> 16])
      assert.ok((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0, `NaN stays NaN: 0x${h.toString(16)}`);
    // The TypeScript rounding itself: within half a spacing, so |w − ŵ| ≤ 2^-11·|w| for normals.
    for (const v of rng) assert.ok(Math.abs(f16Round(v) - v) <= 2 ** -11 * Math.abs(v) + 2 ** -25, `${v}`);
  });
});

interface ConvCase {
  readonly name: string;
  readonly x: [number, number, number, number];
  readonly w: [number, number, number, number];
  readonly stride: [number, number];
  readonly pad: [number, number];
  readonly groups: number;
}

const CONV_CASES: readonly ConvCase[] = [
  { name: 'conv1-like 11×11 stride 4 pad 2, batch 1', x: [1, 3, 39, 39], w: [8, 3, 11, 11], stride: [4, 4], pad: [2, 2], groups: 1 },
  {
    name: 'odd 3×5 kernel, strides 2×3, groups 2, 66 rows per group',
    x: [2, 4, 11, 9],
    w: [132, 2, 3, 5],
    stride: [2, 3],
    pad: [1, 2],
    groups: 2,
  },
];

async function convWith(x: Float32Array<ArrayBuffer>, w: GPUBuffer, b: Float32Array<ArrayBuffer>, g: ConvGeometry, format: WeightFormat) {
  if ('reason' in opened) throw new Error(opened.reason);
  const { ctx } = opened;
  const [xb, bb] = [upload(ctx, x), upload(ctx, b)];
  const size = g.n * g.oc * g.oh * g.ow;
  const yb = ctx.buffer(size * 4);
  conv2d(ctx, xb, w, bb, yb, g, true, format);
  const y = await download(ctx, yb, size);
  for (const buf of [xb, bb, yb]) buf.destroy();
  return y;
}

describe('f16 weights: the packed variant of the matrix kernels', { skip }, () => {
  for (const [i, c] of CONV_CASES.entries()) {
    test(`conv2d with packed f16 weights: ${c.name}`, async () => {
      const g = convGeometry(c.x, c.w, c.stride, c.pad, c.groups);
      const [x, w, b] = [random(numel(c.x), 110 + i), random(numel(c.w), 120 + i), random(g.oc, 130 + i)];
      const half = packed(w);
      const y = await convWith(x, half, b, g, 'f16-packed');
      half.destroy();
      const kc = (g.c / g.groups) * g.kh * g.kw;
      const rounded = f16RoundAll(w);
      assertClose(y, refConv.conv2dForward(x, rounded, b, g, true), 'against f16-rounded weights in f32', tol(kc));
      const err = Float32Array.from(w, (v, j) => Math.abs(v - rounded[j]!));
      const bound = refConv.conv2dForward(abs(x), err, null, g, false);
      checkAgainstF32(y, refConv.conv2dForward(x, w, b, g, true), bound, kc, 'against f32 weights');
    });
  }

  const LINEAR_CASES: readonly { name: string; g: LinearGeometry }[] = [
    { name: 'batch 1, k % 4 = 0 (matrix–vector kernel)', g: { m: 1, k: 200, n: 70 } },
    { name: 'batch 5, odd k, an odd count of weights (tiled GEMM)', g: { m: 5, k: 131, n: 67 } },
  ];
  for (const [i, { name, g }] of LINEAR_CASES.entries()) {
    test(`linear with packed f16 weights: ${name}`, async () => {
      if ('reason' in opened) return;
      const { ctx } = opened;
      const [x, w, b] = [random(g.m * g.k, 140 + i), random(g.n * g.k, 150 + i), random(g.n, 160 + i)];
      const half = packed(w);
      const [xb, bb, yb] = [upload(ctx, x), upload(ctx, b), ctx.buffer(g.m * g.n * 4)];
      linear(ctx, xb, half, bb, yb, g, false, 'f16-packed');
      const y = await download(ctx, yb, g.m * g.n);
      for (const buf of [half, xb, bb, yb]) buf.destroy();
      const rounded = f16RoundAll(w);
      assertClose(y, refLinear.linearForward(x, rounded, b, g, false), 'against f16-rounded weights in f32', tol(g.k));
      const err = Float32Array.from(w, (v, j) => Math.abs(v - rounded[j]!));
      checkAgainstF32(
        y,
        refLinear.linearForward(x, w, b, g, false),
        refLinear.linearForward(abs(x), err, null, g, false),
        g.k,
        'against f32 weights',
      );
    });
  }
});

describe('f16 weights: the native variant (enable f16), a source check only', () => {
  // No adapter here offers shader-f16 (SwiftShader does not), so this variant cannot be compiled or
  // run on these machines: its source must be the packed variant's but for the weight snippets.
  const swap = (src: string, from: WeightFormat, to: WeightFormat, shape: 'scalar' | 'vec4') => {
    const [a, b] = [WEIGHT_LOADS[from], WEIGHT_LOADS[to]];
    const out = src.replace(a.binding(1, 'w', shape), b.binding(1, 'w', shape)).replace(a.functions('w', shape), b.functions('w', shape));
    return b.directives + out.slice(a.directives.length);
  };
  const conv = convGeometry([1, 3, 39, 39], [8, 3, 11, 11], [4, 4], [2, 2], 1);
  const cases: [string, (f: WeightFormat) => string, 'scalar' | 'vec4'][] = [
    ['conv2d (GEMM)', (f) => conv2dSource(conv, true, true, f), 'scalar'],
    ['linear (GEMM)', (f) => linearSource({ m: 5, k: 131, n: 67 }, true, false, f), 'scalar'],
    ['linear (matrix–vector)', (f) => linearSource({ m: 1, k: 9216, n: 4096 }, true, true, f), 'vec4'],
  ];
  for (const [what, source, shape] of cases) {
    test(`${what}: native f16 reads array<${shape === 'vec4' ? 'vec4<f16>' : 'f16'}> after 'enable f16;', and is otherwise the packed source`, () => {
      const native = source('f16');
      const packedSrc = source('f16-packed');
      assert.ok(native.startsWith('enable f16;\n'), 'the directive opens the module');
      assert.match(native, shape === 'vec4' ? /var<storage, read> w: array<vec4<f16>>;/ : /var<storage, read> w: array<f16>;/);
      assert.match(native, shape === 'vec4' ? /return vec4<f32>\(w\[i\]\);/ : /return f32\(w\[i\]\);/);
      assert.doesNotMatch(packedSrc, /enable f16|f16>/, 'the packed variant is core WGSL');
      assert.match(packedSrc, /unpack2x16float/);
      assert.equal(swap(packedSrc, 'f16-packed', 'f16', shape), native);
      assert.equal(swap(source('f32'), 'f32', 'f16-packed', shape), packedSrc, 'and the packed source is the f32 one but for the weights');
    });
  }
  test('the matrix–vector source above is the one FC6 at batch 1 uses', () => assert.ok(gemvApplies({ m: 1, k: 9216, n: 4096 })));
});

describe('f16 weights: the webgpu backend', { skip }, () => {
  const be = 'reason' in opened ? null : loadWebGpuBackendSync({ precision: 'f16' });
  const ref = referenceBackend();
  const input = (seed: number) => random(2 * 3 * 67 * 67, seed);

  /** The mini AlexNet's logits for `x` on backend `b` with the weights `state` (eval mode). */
  function logits(b: typeof ref | NonNullable<typeof be>, state: Map<string, Float32Array>, x: Float32Array): Float32Array {
    setBackend(b);
    try {
      const model = miniAlexNet();
      model.loadStateDict(new Map([...model.stateDict()].map(([k, v]) => [k, Tensor.fromArray(state.get(k)!, v.shape, { backend: b })])));
      model.eval();
      const out = noGrad(() => model.forward(Tensor.fromArray(x, [2, 3, 67, 67], { backend: b })).toArray()) as Float32Array;
      model.parameters().forEach((p) => p.dispose());
      return out;
    } finally {
      setBackend(ref);
    }
  }

  /** Weight matrices rounded to f16 (what the backend's kernels read); biases stay f32. */
  const roundWeights = (state: Map<string, Float32Array>) =>
    new Map([...state].map(([k, v]) => [k, k.endsWith('.weight') ? f16RoundAll(v) : v]));

  const initial = (() => {
    setBackend(ref);
    const model = miniAlexNet();
    return new Map([...model.stateDict()].map(([k, v]) => [k, v.toArray() as Float32Array]));
  })();

  test('precision f16 is reported, with the variant the adapter allows', () => {
    assert.equal(be!.precision, 'f16');
    assert.equal(be!.f16Weights, !('reason' in opened) && opened.ctx.shaderF16 ? 'native' : 'packed');
  });

  test("a small AlexNet's logits: f32 on the f16-rounded weights, and close to f32's", () => {
    const x = input(1);
    const ours = logits(be!, initial, x);
    // Same weights, f32 arithmetic in both: only summation orders differ (~3e-8 here), while one
    // layer left on its f32 weights would move the logits by ~1e-5.
    const exact = relError(ours, logits(ref, roundWeights(initial), x));
    assert.ok(exact <= 1e-6, `against the reference on f16-rounded weights: ${exact}`);
    // Against f32 weights: each of the 7 weight layers moves its output by at most 2^-11 of
    // Σ|x·w| (to first order; ReLU, pooling and this LRN do not amplify), so 8·2^-11 ≈ 3.9e-3.
    const f32 = logits(ref, initial, x);
    const err = relError(ours, f32);
    assert.ok(err > 0 && err <= 8 * 2 ** -11, `against f32 weights: ${err}`);
  });

  test('the f16 copies are remade after an SGD step and a write, and freed with their weights', () => {
    const before = be!.liveBuffers;
    setBackend(be!);
    try {
      const { state, y } = tidy(() => {
        const model = miniAlexNet();
        const shapes = model.stateDict();
        model.loadStateDict(new Map([...initial].map(([k, v]) => [k, Tensor.fromArray(v, shapes.get(k)!.shape, { backend: be! })])));
        const x = Tensor.fromArray(input(2), [2, 3, 67, 67], { backend: be! });
        model.eval();
        noGrad(() => model.forward(x)); // makes the f16 copies
        // An SGD step on made-up gradients (a backward pass would only add SwiftShader compile time).
        const opt = new SGD(model.parameters(), { lr: 0.5 });
        model.parameters().forEach((p, i) => (p.grad = Tensor.fromArray(random(p.size, 200 + i), p.shape, { backend: be! })));
        opt.step();
        opt.zeroGrad();
        noGrad(() => model.forward(x)); // remakes them (so the write below must drop them again)
        model
          .stateDict()
          .get('classifier.2.weight')!
          .write(3, Float32Array.from([0.75, -1.5, 100.03]));
        return {
          state: new Map([...model.stateDict()].map(([k, v]) => [k, v.toArray() as Float32Array])),
          y: noGrad(() => model.forward(x).toArray()) as Float32Array,
        };
      });
      assert.deepEqual(
        state.get('classifier.2.weight')!.subarray(3, 6),
        Float32Array.from([0.75, -1.5, 100.03]),
        'the master weights hold the write',
      );
      const want = logits(ref, roundWeights(state), input(2));
      assert.ok(relError(y, want) <= 1e-6, `after the step and the write: ${relError(y, want)}`);
      const stale = logits(ref, roundWeights(initial), input(2));
      assert.ok(relError(y, stale) > 1e-2, 'the step changed the logits');
    } finally {
      setBackend(ref);
    }
    assert.equal(be!.liveBuffers, before, 'weights and their f16 copies are all freed');
  });

  test('bf16 is refused by the webgpu backend, f16 by the native and wasm backends', () => {
    assert.throws(
      () => loadWebGpuBackendSync({ precision: 'bf16' }),
      (e: Error) => e instanceof UsageError && /precision bf16/.test(e.message),
    );
    assert.throws(
      () => setBackend('wasm', { precision: 'f16' }),
      (e: Error) => e instanceof UsageError && /f32 only/.test(e.message),
    );
  });
});

test('the command line: a precision the backend does not compute in is one usage line (exit 2)', () => {
  const dir = tempDir('webgpu-f16-cli');
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      [
        'eval',
        '--weights',
        'none.pth',
        '--dataset',
        'fashion-mnist',
        '--precision',
        'bf16',
        '--backend',
        'webgpu',
        '--out',
        join(dir, 'eval'),
      ],
      {},
      /webgpu backend computes in f32, or with f16 weights/,
    ],
  ];
  // (Where the addon cannot load, the native backend falls back to the reference one instead.)
  if (native)
    cases.push([
      ['forward', '--weights', 'none.pth', '--input', 'x.npy', '--output', join(dir, 'y.npy'), '--precision', 'f16'],
      { ALEXNET_BACKEND: 'native' },
      /precision f16 \(f16 weights\) is the webgpu backend's/,
    ]);
  for (const [args, env, message] of cases) {
    const r = runCli(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
