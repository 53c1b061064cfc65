// The WebAssembly GEMM, convolution and linear kernels (dist/wasm, built by scripts/build_wasm.sh)
// against the reference backend's kernels: odd sizes around the blocking (MR 4, NR 8, KC 256),
// every transpose, groups 1 and 2, strides, padding, 1×1 kernels, bias and fused ReLU, small output
// planes (images side by side as GEMM columns) and large ones (one image per GEMM). The error
// bound of each element is relative to Σ|a·b| (the same kernel on absolute values), so the check
// is tight whatever the cancellation. Thread splits (1, 2, 3 threads, and two real worker threads on
// the shared-memory build) must give bitwise identical results.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConvGeometry, FloatArray } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import { conv2dBackwardData, conv2dBackwardWeights, conv2dForward } from '../src/backend/reference/conv.js';
import { gemm } from '../src/backend/reference/gemm.js';
import { linearBackwardData, linearBackwardWeights, linearForward } from '../src/backend/reference/linear.js';
import { randomArray } from './helpers.js';
import { KernelHarness, relaxedSimdAvailable, type KernelFile } from './wasm_kernels_harness.js';

const REL = 1e-5;

function f32(n: number, seed: number): Float32Array {
  return Float32Array.from(randomArray(n, seed));
}

function abs(a: FloatArray): Float32Array {
  return Float32Array.from(a, Math.abs);
}

/** |actual − expected| ≤ REL·bound + 1e-30 elementwise (bound = Σ|terms|), NaN where expected is NaN. */
function assertWithin(actual: Float32Array, expected: FloatArray, bound: FloatArray, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: ${a}, expected NaN`);
      continue;
    }
    const tol = REL * Math.max(bound[i]!, 1e-6) + 1e-30;
    if (!(Math.abs(a - e) <= tol)) assert.fail(`${what}[${i}]: ${a}, expected ${e} (tolerance ${tol})`);
  }
}

function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.deepEqual(new Uint32Array(a.buffer), new Uint32Array(b.buffer), what);
}

// ---- SGEMM --------------------------------------------------------------------------------------

function runSgemm(
  h: KernelHarness,
  ta: boolean,
  tb: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  threads: number,
): Float32Array {
  h.reset();
  const lda = ta ? m : k;
  const ldb = tb ? k : n;
  const pa = h.put(a);
  const pb = h.put(b);
  const pc = h.poisoned(m * n);
  const s = h.allocScratch(h.fn('sgemm_scratch_bytes')(m, n, k, threads));
  h.runSequential('sgemm', [ta ? 1 : 0, tb ? 1 : 0, m, n, k, pa, lda, pb, ldb, pc, n, 0, s], threads);
  return h.read(pc, m * n);
}

test('sgemm matches the reference GEMM on odd sizes, every transpose, 1/2/3 threads bitwise equal', () => {
  const h = new KernelHarness();
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [3, 17, 5],
    [17, 3, 64],
    [64, 129, 17],
    [129, 64, 257],
    [5, 520, 3],
    [130, 9, 300],
  ];
  let seed = 1;
  for (const [m, n, k] of sizes) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = f32(m * k, seed++);
        const b = f32(k * n, seed++);
        const expected = new Float64Array(m * n);
        const bound = new Float64Array(m * n);
        gemm(ta, tb, m, n, k, 1, Float64Array.from(a), 0, ta ? m : k, Float64Array.from(b), 0, tb ? k : n, 0, expected, 0, n);
        gemm(ta, tb, m, n, k, 1, Float64Array.from(abs(a)), 0, ta ? m : k, Float64Array.from(abs(b)), 0, tb ? k : n, 0, bound, 0, n);
        const what = `sgemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} m=${m} n=${n} k=${k}`;
        const one = runSgemm(h, ta, tb, m, n, k, a, b, 1);
        assertWithin(one, expected, bound, what);
        for (const threads of [2, 3]) assertSameBits(runSgemm(h, ta, tb, m, n, k, a, b, threads), one, `${what}, ${threads} threads`);
      }
    }
  }
});

// ---- convolution ------------------------------------------------------------------------------------

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: [number, number];
  pad: [number, number];
  groups: number;
}

const CONV_CASES: ConvCase[] = [
  { name: '11x11/4 pad 2 (conv1)', x: [2, 3, 31, 29], w: [9, 3, 11, 11], stride: [4, 4], pad: [2, 2], groups: 1 },
  { name: '5x5 pad 2 groups 2 (conv2 of alexnet-2012)', x: [2, 6, 13, 11], w: [10, 3, 5, 5], stride: [1, 1], pad: [2, 2], groups: 2 },
  { name: '3x3 pad 1 (conv3-5)', x: [1, 17, 9, 7], w: [129, 17, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 },
  { name: '3x3 pad 1 groups 2, many channels', x: [3, 64, 6, 5], w: [24, 32, 3, 3], stride: [1, 1], pad: [1, 1], groups: 2 },
  { name: '1x1 pointwise', x: [2, 7, 5, 6], w: [9, 7, 1, 1], stride: [1, 1], pad: [0, 0], groups: 1 },
  { name: '1x1 pointwise groups 2', x: [1, 6, 3, 5], w: [4, 3, 1, 1], stride: [1, 1], pad: [0, 0], groups: 2 },
  { name: '3x2 kernel, stride 2x3, pad 1x0', x: [2, 4, 12, 17], w: [5, 4, 3, 2], stride: [2, 3], pad: [1, 0], groups: 1 },
  { name: '3x3 stride 2, two images of 90 pixels each', x: [2, 3, 17, 19], w: [6, 3, 3, 3], stride: [2, 2], pad: [1, 1], groups: 1 },
  { name: 'small planes side by side, 300 output channels', x: [3, 4, 5, 5], w: [300, 4, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 },
  {
    name: '11x11 stride 1 on 900 pixels (backward data in several column blocks)',
    x: [1, 8, 30, 30],
    w: [2, 8, 11, 11],
    stride: [1, 1],
    pad: [5, 5],
    groups: 1,
  },
  { name: 'kernel larger than padded input row', x: [1, 2, 4, 4], w: [3, 2, 5, 5], stride: [1, 1], pad: [2, 2], groups: 1 },
  // Batch 1 (work cut by output channels, k slices starting inside a kernel row, panels over two output rows).
  {
    name: '3x3 pad 1 on 13x13, batch 1, more channels than pixels',
    x: [1, 33, 13, 13],
    w: [200, 33, 3, 3],
    stride: [1, 1],
    pad: [1, 1],
    groups: 1,
  },
  {
    name: '5x5 pad 2 on 27x27, batch 1 (column blocks wider than 512)',
    x: [1, 4, 27, 27],
    w: [8, 4, 5, 5],
    stride: [1, 1],
    pad: [2, 2],
    groups: 1,
  },
  { name: '3x3 unpadded, stride 1', x: [1, 5, 10, 12], w: [6, 5, 3, 3], stride: [1, 1], pad: [0, 0], groups: 1 },
  {
    name: '11x11/4 pad 2 on 67x67 (rows of 16 outputs: whole window rows transposed)',
    x: [1, 3, 67, 67],
    w: [10, 3, 11, 11],
    stride: [4, 4],
    pad: [2, 2],
    groups: 1,
  },
  { name: '9x9/4 pad 1, 11 outputs a row', x: [2, 2, 45, 50], w: [5, 2, 9, 9], stride: [4, 4], pad: [1, 1], groups: 1 },
];

interface ConvData {
  g: ConvGeometry;
  x: Float32Array;
  w: Float32Array;
  b: Float32Array;
  gy: Float32Array;
}

function convData(c: ConvCase, seed: number): ConvData {
  const g = convGeometry(c.x, c.w, c.stride, c.pad, c.groups);
  const xs = c.x.reduce((p, v) => p * v, 1);
  const ws = c.w.reduce((p, v) => p * v, 1);
  return { g, x: f32(xs, seed), w: f32(ws, seed + 1), b: f32(g.oc, seed + 2), gy: f32(g.n * g.oc * g.oh * g.ow, seed + 3) };
}

function outSize(g: ConvGeometry): number {
  return g.n * g.oc * g.oh * g.ow;
}

/** The forward on `threads` threads; `packed`: with the weights packed ahead (conv2d_pack_weights, same threads). */
function wasmConvForward(h: KernelHarness, d: ConvData, bias: boolean, relu: boolean, threads: number, packed = false): Float32Array {
  h.reset();
  const geom = h.geometry(d.g);
  const [px, pw, pb] = [h.put(d.x), h.put(d.w), bias ? h.put(d.b) : 0];
  let ppw = 0;
  if (packed) {
    ppw = h.poisoned(h.fn('conv2d_packed_weights_bytes')(geom) / 4);
    h.runSequential('conv2d_pack_weights', [pw, ppw, geom], threads);
    new Float32Array(h.memory.buffer, pw, d.w.length).fill(NaN); // the forward must read the packed copy only
  }
  const py = h.poisoned(outSize(d.g));
  const s = h.allocScratch(h.fn('conv2d_forward_scratch_bytes')(geom, threads));
  h.runSequential('conv2d_forward', [px, pw, ppw, pb, py, geom, relu ? 1 : 0, s], threads);
  return h.read(py, outSize(d.g));
}

function wasmConvBackwardData(h: KernelHarness, d: ConvData, threads: number): Float32Array {
  h.reset();
  const geom = h.geometry(d.g);
  const [pgy, pw] = [h.put(d.gy), h.put(d.w)];
  const pgx = h.poisoned(d.x.length);
  const s = h.allocScratch(h.fn('conv2d_backward_data_scratch_bytes')(geom, threads));
  h.runSequential('conv2d_backward_data', [pgy, pw, pgx, geom, s], threads);
  return h.read(pgx, d.x.length);
}

function wasmConvBackwardWeights(h: KernelHarness, d: ConvData, threads: number): { gw: Float32Array; gb: Float32Array } {
  h.reset();
  const geom = h.geometry(d.g);
  const [pgy, px] = [h.put(d.gy), h.put(d.x)];
  const [pgw, pgb] = [h.poisoned(d.w.length), h.poisoned(d.g.oc)];
  const s = h.allocScratch(h.fn('conv2d_backward_weights_scratch_bytes')(geom, threads));
  h.runSequential('conv2d_backward_weights', [pgy, px, pgw, pgb, geom, s], threads);
  return { gw: h.read(pgw, d.w.length), gb: h.read(pgb, d.g.oc) };
}

function reluRef(y: FloatArray): FloatArray {
  return y.map((v) => (v < 0 ? 0 : v));
}

function checkConvCase(h: KernelHarness, c: ConvCase, seed: number): void {
  const d = convData(c, seed);
  const x64 = Float64Array.from(d.x);
  const w64 = Float64Array.from(d.w);
  const gy64 = Float64Array.from(d.gy);
  const ax = Float64Array.from(abs(d.x));
  const aw = Float64Array.from(abs(d.w));
  const agy = Float64Array.from(abs(d.gy));

  const yRef = conv2dForward(x64, w64, Float64Array.from(d.b), d.g, false);
  const yBound = conv2dForward(ax, aw, Float64Array.from(abs(d.b)), d.g, false);
  const y1 = wasmConvForward(h, d, true, false, 1);
  assertWithin(y1, yRef, yBound, `${c.name}: forward`);
  const yr1 = wasmConvForward(h, d, true, true, 1);
  assertWithin(yr1, reluRef(yRef), yBound, `${c.name}: forward + ReLU`);
  const yNoBias = wasmConvForward(h, d, false, false, 1);
  assertWithin(yNoBias, conv2dForward(x64, w64, null, d.g, false), yBound, `${c.name}: forward, no bias`);

  const gxRef = conv2dBackwardData(gy64, w64, d.g);
  const gxBound = conv2dBackwardData(agy, aw, d.g);
  const gx1 = wasmConvBackwardData(h, d, 1);
  assertWithin(gx1, gxRef, gxBound, `${c.name}: backward data`);

  const wRef = conv2dBackwardWeights(gy64, x64, d.g, true);
  const wBound = conv2dBackwardWeights(agy, ax, d.g, true);
  const gw1 = wasmConvBackwardWeights(h, d, 1);
  assertWithin(gw1.gw, wRef.gw, wBound.gw, `${c.name}: backward weights`);
  assertWithin(gw1.gb, wRef.gb!, wBound.gb!, `${c.name}: bias gradient`);

  assertSameBits(wasmConvForward(h, d, true, true, 1, true), yr1, `${c.name}: forward, weights packed ahead`);
  for (const threads of [2, 3]) {
    const tag = `${c.name}, ${threads} threads`;
    assertSameBits(wasmConvForward(h, d, true, true, threads), yr1, `${tag}: forward`);
    assertSameBits(wasmConvForward(h, d, true, true, threads, true), yr1, `${tag}: forward, weights packed ahead`);
    assertSameBits(wasmConvBackwardData(h, d, threads), gx1, `${tag}: backward data`);
    const gwT = wasmConvBackwardWeights(h, d, threads);
    assertSameBits(gwT.gw, gw1.gw, `${tag}: backward weights`);
    assertSameBits(gwT.gb, gw1.gb, `${tag}: bias gradient`);
  }
}

test('convolution forward, backward data and backward weights match the reference backend', () => {
  const h = new KernelHarness();
  CONV_CASES.forEach((c, i) => checkConvCase(h, c, 100 + 10 * i));
});

test('convolution forward of an image too large for a padded copy packs from the image itself', () => {
  // 16 × 514 × 514 padded floats: over the 2^22 the forward copies into each thread's scratch.
  const c: ConvCase = { name: 'large image', x: [1, 16, 512, 512], w: [1, 16, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 };
  const d = convData(c, 700);
  const h = new KernelHarness();
  const y1 = wasmConvForward(h, d, true, true, 1);
  const yRef = conv2dForward(Float64Array.from(d.x), Float64Array.from(d.w), Float64Array.from(d.b), d.g, false);
  const bound = conv2dForward(Float64Array.from(abs(d.x)), Float64Array.from(abs(d.w)), Float64Array.from(abs(d.b)), d.g, false);
  assertWithin(y1, reluRef(yRef), bound, 'large image: forward + ReLU');
  assertSameBits(wasmConvForward(h, d, true, true, 2), y1, 'large image, 2 threads: forward');
});

/** The Winograd forward (F(2×2, 3×3) or F(2×2, 5×5)) on `threads` threads (weights transformed on as many). */
function wasmWinograd(h: KernelHarness, d: ConvData, bias: boolean, relu: boolean, threads: number): Float32Array {
  h.reset();
  const geom = h.geometry(d.g);
  assert.equal(h.fn('conv2d_winograd_eligible')(geom), 1);
  const [px, pw, pb] = [h.put(d.x), h.put(d.w), bias ? h.put(d.b) : 0];
  const packed = h.poisoned(h.fn('conv2d_winograd_weights_bytes')(geom) / 4);
  const ps = h.allocScratch(h.fn('conv2d_winograd_pack_scratch_bytes')(geom, threads));
  h.runSequential('conv2d_winograd_pack_weights', [pw, packed, ps, geom], threads);
  const py = h.poisoned(outSize(d.g));
  const s = h.allocScratch(h.fn('conv2d_winograd_scratch_bytes')(geom, threads));
  h.runSequential('conv2d_winograd_forward', [px, packed, pb, py, geom, relu ? 1 : 0, s], threads);
  return h.read(py, outSize(d.g));
}

test('Winograd F(2×2, 3×3) and F(2×2, 5×5) match the reference convolution; 1/2/3 threads bitwise equal', () => {
  const h = new KernelHarness();
  const cases: ConvCase[] = [
    { name: 'AlexNet conv4-like 13x13 pad 1', x: [1, 24, 13, 13], w: [20, 24, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 },
    { name: 'even 8x10, unpadded, batch 3', x: [3, 5, 8, 10], w: [6, 5, 3, 3], stride: [1, 1], pad: [0, 0], groups: 1 },
    { name: 'pad 2, 7x9, odd channels', x: [2, 3, 7, 9], w: [7, 3, 3, 3], stride: [1, 1], pad: [2, 2], groups: 1 },
    { name: 'more tiles than a chunk (300 channels deep)', x: [1, 300, 20, 21], w: [9, 300, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 },
    { name: '5x5: AlexNet conv2-like 27x27 pad 2', x: [1, 16, 27, 27], w: [12, 16, 5, 5], stride: [1, 1], pad: [2, 2], groups: 1 },
    { name: '5x5: unpadded 11x12, batch 2', x: [2, 3, 11, 12], w: [5, 3, 5, 5], stride: [1, 1], pad: [0, 0], groups: 1 },
    { name: '5x5: pad 1, 9x16, 70 channels', x: [1, 70, 9, 16], w: [6, 70, 5, 5], stride: [1, 1], pad: [1, 1], groups: 1 },
  ];
  cases.forEach((c, i) => {
    const d = convData(c, 900 + i);
    const yRef = conv2dForward(Float64Array.from(d.x), Float64Array.from(d.w), Float64Array.from(d.b), d.g, false);
    const bound = conv2dForward(Float64Array.from(abs(d.x)), Float64Array.from(abs(d.w)), Float64Array.from(abs(d.b)), d.g, false);
    const y1 = wasmWinograd(h, d, true, false, 1);
    assertWithin(y1, yRef, bound, `${c.name}: forward`);
    const yr1 = wasmWinograd(h, d, true, true, 1);
    assertWithin(yr1, reluRef(yRef), bound, `${c.name}: forward + ReLU`);
    assertWithin(
      wasmWinograd(h, d, false, false, 1),
      conv2dForward(Float64Array.from(d.x), Float64Array.from(d.w), null, d.g, false),
      bound,
      `${c.name}: no bias`,
    );
    for (const threads of [2, 3]) assertSameBits(wasmWinograd(h, d, true, true, threads), yr1, `${c.name}, ${threads} threads`);
  });
  h.reset();
  const bad = h.geometry(convGeometry([1, 4, 9, 9], [4, 4, 3, 3], [2, 2], [1, 1], 1));
  assert.equal(h.fn('conv2d_winograd_eligible')(bad), 0, 'stride 2 is not eligible');
  const finite = h.put([1, 2, 3, 4, 5, 6, 7]);
  assert.equal(h.fn('all_finite_f32')(finite, 7), 1);
  for (const v of [Infinity, -Infinity, NaN]) {
    for (const at of [1, 6]) {
      const p = h.put([1, 2, 3, 4, 5, 6, 7].map((x, i) => (i === at ? v : x)));
      assert.equal(h.fn('all_finite_f32')(p, 7), 0, `${v} at ${at}`);
    }
  }
});

test('convolution keeps NaN and infinities where the reference does, and ReLU passes NaN', () => {
  const h = new KernelHarness();
  const c = CONV_CASES[2]!;
  const d = convData(c, 7);
  d.x[5] = NaN;
  d.x[40] = Infinity;
  const yRef = conv2dForward(Float64Array.from(d.x), Float64Array.from(d.w), Float64Array.from(d.b), d.g, true);
  const bound = conv2dForward(Float64Array.from(abs(d.x)), Float64Array.from(abs(d.w)), Float64Array.from(abs(d.b)), d.g, false);
  const y = wasmConvForward(h, d, true, true, 2);
  assert.ok(y.some(Number.isNaN) && y.some((v) => v === Infinity), 'non-finite values reach the output');
  for (let i = 0; i < y.length; i++) {
    const e = yRef[i]!;
    if (!Number.isFinite(e)) assert.ok(Object.is(y[i], e) || (Number.isNaN(e) && Number.isNaN(y[i]!)), `y[${i}]: ${y[i]}, expected ${e}`);
    else assert.ok(Math.abs(y[i]! - e) <= REL * Math.max(bound[i]!, 1e-6), `y[${i}]: ${y[i]}, expected ${e}`);
  }
});

// ---- linear -----------------------------------------------------------------------------------------

function checkLinear(h: KernelHarness, m: number, k: number, n: number, seed: number): void {
  const [x, w, b, gy] = [f32(m * k, seed), f32(n * k, seed + 1), f32(n, seed + 2), f32(m * n, seed + 3)];
  const g = { m, k, n };
  const what = `linear m=${m} k=${k} n=${n}`;
  const run = (threads: number): Float32Array[] => {
    h.reset();
    const [px, pw, pb, pgy] = [h.put(x), h.put(w), h.put(b), h.put(gy)];
    const [py, pyr, pgx, pgw, pgb] = [h.poisoned(m * n), h.poisoned(m * n), h.poisoned(m * k), h.poisoned(n * k), h.poisoned(n)];
    const scratch = (name: string): number => h.allocScratch(h.fn(`${name}_scratch_bytes`)(m, k, n, threads));
    const [s1, s2, s3] = [scratch('linear_forward'), scratch('linear_backward_data'), scratch('linear_backward_weights')];
    h.runSequential('linear_forward', [px, pw, pb, py, m, k, n, 0, s1], threads);
    h.runSequential('linear_forward', [px, pw, 0, pyr, m, k, n, 1, s1], threads);
    h.runSequential('linear_backward_data', [pgy, pw, pgx, m, k, n, s2], threads);
    h.runSequential('linear_backward_weights', [pgy, px, pgw, pgb, m, k, n, s3], threads);
    return [h.read(py, m * n), h.read(pyr, m * n), h.read(pgx, m * k), h.read(pgw, n * k), h.read(pgb, n)];
  };
  const [y, yr, gx, gw, gb] = run(1) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  const [x64, w64, gy64] = [Float64Array.from(x), Float64Array.from(w), Float64Array.from(gy)];
  const [ax, aw, agy] = [Float64Array.from(abs(x)), Float64Array.from(abs(w)), Float64Array.from(abs(gy))];
  const yBound = linearForward(ax, aw, Float64Array.from(abs(b)), g, false);
  assertWithin(y, linearForward(x64, w64, Float64Array.from(b), g, false), yBound, `${what}: forward`);
  assertWithin(yr, linearForward(x64, w64, null, g, true), yBound, `${what}: forward, no bias, ReLU`);
  assertWithin(gx, linearBackwardData(gy64, w64, g), linearBackwardData(agy, aw, g), `${what}: backward data`);
  const wRef = linearBackwardWeights(gy64, x64, g, true);
  const wBound = linearBackwardWeights(agy, ax, g, true);
  assertWithin(gw, wRef.gw, wBound.gw, `${what}: backward weights`);
  assertWithin(gb, wRef.gb!, wBound.gb!, `${what}: bias gradient`);
  for (const threads of [2, 3]) {
    run(threads).forEach((r, i) => assertSameBits(r, [y, yr, gx, gw, gb][i]!, `${what}, ${threads} threads, output ${i}`));
  }
}

test('linear forward (GEMV rows and GEMM), backward data and weights match the reference backend', () => {
  const h = new KernelHarness();
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 37, 9],
    [2, 129, 17],
    [3, 64, 3],
    [4, 17, 129],
    [16, 300, 70],
    [17, 9, 520],
  ];
  shapes.forEach(([m, k, n], i) => checkLinear(h, m, k, n, 500 + 10 * i));
});

// ---- builds ---------------------------------------------------------------------------------------

function conv1Outputs(file: KernelFile): Float32Array {
  const h = new KernelHarness(file);
  const d = convData(CONV_CASES[0]!, 900);
  return wasmConvForward(h, d, true, true, 2);
}

test('two worker threads on the shared-memory build compute the same bits as one thread', async () => {
  const h = new KernelHarness('alexnet_mt.wasm');
  const d = convData(CONV_CASES[3]!, 77);
  const single = wasmConvForward(h, d, true, false, 1);
  const gxSingle = wasmConvBackwardData(h, d, 1);
  h.reset();
  const geom = h.geometry(d.g);
  const [px, pw, pb, pgy] = [h.put(d.x), h.put(d.w), h.put(d.b), h.put(d.gy)];
  const [py, pgx] = [h.poisoned(outSize(d.g)), h.poisoned(d.x.length)];
  const s1 = h.allocScratch(h.fn('conv2d_forward_scratch_bytes')(geom, 2));
  const s2 = h.allocScratch(h.fn('conv2d_backward_data_scratch_bytes')(geom, 2));
  await h.runThreads('conv2d_forward', [px, pw, 0, pb, py, geom, 0, s1], 2);
  await h.runThreads('conv2d_backward_data', [pgy, pw, pgx, geom, s2], 2);
  assertSameBits(h.read(py, outSize(d.g)), single, 'forward on two worker threads');
  assertSameBits(h.read(pgx, d.x.length), gxSingle, 'backward data on two worker threads');
  const ppw = h.poisoned(h.fn('conv2d_packed_weights_bytes')(geom) / 4);
  await h.runThreads('conv2d_pack_weights', [pw, ppw, geom], 2);
  await h.runThreads('conv2d_forward', [px, pw, ppw, pb, py, geom, 0, s1], 2);
  assertSameBits(h.read(py, outSize(d.g)), single, 'forward with the weights packed ahead on two worker threads');
  assert.deepEqual(conv1Outputs('alexnet_mt.wasm'), conv1Outputs('alexnet.wasm'), 'threaded and plain builds agree');
});

test('the relaxed-SIMD build (standard relaxed_madd) matches the reference within f32 rounding', (t) => {
  if (!relaxedSimdAvailable()) {
    t.skip('this engine has no relaxed SIMD');
    return;
  }
  for (const file of ['alexnet_relaxed.wasm', 'alexnet_mt_relaxed.wasm'] as const) {
    const h = new KernelHarness(file);
    checkConvCase(h, CONV_CASES[1]!, 321);
    checkLinear(h, 5, 70, 33, 77);
  }
});
