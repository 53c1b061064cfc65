// The WGSL convolution and linear kernels (src/backend/webgpu/kernels) run through Dawn in Node
// against the reference backend's kernels on random data: groups, strides, padding, odd sizes
// and sizes that cross the 64×64×16 tile edges, bias or not, fused ReLU, split-K weight
// gradients, batch 1 and more, and NaN propagating where the reference's does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeometry, LinearGeometry } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import * as refConv from '../src/backend/reference/conv.js';
import * as refLinear from '../src/backend/reference/linear.js';
import { conv2d, conv2dBackwardData, conv2dBackwardWeights } from '../src/backend/webgpu/kernels/conv.js';
import { linear, linearBackwardData, linearBackwardWeights } from '../src/backend/webgpu/kernels/linear.js';
import { LARGE_TILES, forceTileShape } from '../src/backend/webgpu/kernels/gemm.js';
import { download, openContext, random, upload } from './webgpu_kernels_helpers.js';
import { assertClose } from './reference_helpers.js';

const opened = await openContext();
const skip = 'reason' in opened ? opened.reason : false;
after(() => {
  if (!('reason' in opened)) opened.close();
});

/** f32 accumulation over `k` terms of size ≤ 1 against the reference's float64 sums. */
function tol(k: number): { atol: number; rtol: number } {
  return { atol: 2e-6 * Math.max(k, 16), rtol: 1e-5 };
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** NaN planted at `at` (fractions of the array) in a copy of `a`. */
function withNaN(a: Float32Array<ArrayBuffer>, ...at: number[]): Float32Array<ArrayBuffer> {
  const b = a.slice();
  for (const f of at) b[Math.floor(f * (b.length - 1))] = NaN;
  return b;
}

interface ConvCase {
  readonly name: string;
  readonly x: [number, number, number, number];
  readonly w: [number, number, number, number];
  readonly stride: [number, number];
  readonly pad: [number, number];
  readonly groups: number;
}

const CONV_CASES: readonly ConvCase[] = [
  { name: '3×3 pad 1, batch 2', x: [2, 3, 13, 13], w: [5, 3, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 },
  { name: 'conv1-like 11×11 stride 4 pad 2, batch 1', x: [1, 3, 39, 39], w: [8, 3, 11, 11], stride: [4, 4], pad: [2, 2], groups: 1 },
  { name: 'odd 3×5 kernel, strides 2×3, pads 1×2, groups 2', x: [3, 4, 11, 9], w: [6, 2, 3, 5], stride: [2, 3], pad: [1, 2], groups: 2 },
  {
    name: 'groups 2 across the 64-row tile edge (66 per group)',
    x: [1, 6, 9, 10],
    w: [132, 3, 3, 3],
    stride: [1, 1],
    pad: [1, 1],
    groups: 2,
  },
  {
    name: '5×5 pad 2, 70 channels, batch 3 (several tiles each way)',
    x: [3, 17, 9, 9],
    w: [70, 17, 5, 5],
    stride: [1, 1],
    pad: [2, 2],
    groups: 1,
  },
  { name: 'pointwise 1×1, batch 4 (split-K weight gradient)', x: [4, 5, 16, 16], w: [7, 5, 1, 1], stride: [1, 1], pad: [0, 0], groups: 1 },
];

async function runConv(
  x: Float32Array<ArrayBuffer>,
  w: Float32Array<ArrayBuffer>,
  b: Float32Array<ArrayBuffer> | null,
  gy: Float32Array<ArrayBuffer>,
  g: ConvGeometry,
  relu: boolean,
): Promise<{ y: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array | null }> {
  if ('reason' in opened) throw new Error(opened.reason);
  const { ctx } = opened;
  const ySize = g.n * g.oc * g.oh * g.ow;
  const [xb, wb, gyb] = [upload(ctx, x), upload(ctx, w), upload(ctx, gy)];
  const bb = b ? upload(ctx, b) : null;
  const [yb, gxb, gwb] = [ctx.buffer(ySize * 4), ctx.buffer(x.length * 4), ctx.buffer(w.length * 4)];
  const gbb = b ? ctx.buffer(g.oc * 4) : null;
  conv2d(ctx, xb, wb, bb, yb, g, relu);
  conv2dBackwardData(ctx, gyb, wb, gxb, g);
  conv2dBackwardWeights(ctx, gyb, xb, gwb, gbb, g);
  const out = {
    y: await download(ctx, yb, ySize),
    gx: await download(ctx, gxb, x.length),
    gw: await download(ctx, gwb, w.length),
    gb: gbb ? await download(ctx, gbb, g.oc) : null,
  };
  for (const buf of [xb, wb, gyb, bb, yb, gxb, gwb, gbb]) buf?.destroy();
  return out;
}

function checkConv(
  what: string,
  got: Awaited<ReturnType<typeof runConv>>,
  x: Float32Array<ArrayBuffer>,
  w: Float32Array<ArrayBuffer>,
  b: Float32Array<ArrayBuffer> | null,
  gy: Float32Array<ArrayBuffer>,
  g: ConvGeometry,
  relu: boolean,
): void {
  const kc = (g.c / g.groups) * g.kh * g.kw;
  assertClose(got.y, refConv.conv2dForward(x, w, b, g, relu), `${what}: forward`, tol(kc));
  assertClose(got.gx, refConv.conv2dBackwardData(gy, w, g), `${what}: backward data`, tol((g.oc / g.groups) * g.kh * g.kw));
  const ref = refConv.conv2dBackwardWeights(gy, x, g, b !== null);
  assertClose(got.gw, ref.gw, `${what}: backward weights`, tol(g.n * g.oh * g.ow));
  if (b) assertClose(got.gb!, ref.gb!, `${what}: bias gradient`, tol(g.n * g.oh * g.ow));
}

for (const [i, c] of CONV_CASES.entries()) {
  test(`conv2d forward/backward match the reference: ${c.name}`, { skip }, async () => {
    const g = convGeometry(c.x, c.w, c.stride, c.pad, c.groups);
    const x = random(numel(c.x), 10 + i);
    const w = random(numel(c.w), 20 + i);
    const b = random(g.oc, 30 + i);
    const gy = random(g.n * g.oc * g.oh * g.ow, 40 + i);
    checkConv('bias + ReLU', await runConv(x, w, b, gy, g, true), x, w, b, gy, g, true);
    checkConv('no bias, no ReLU', await runConv(x, w, null, gy, g, false), x, w, null, gy, g, false);
  });
}

test('conv2d propagates NaN where the reference does (input, weights, output gradient; ReLU keeps NaN)', { skip }, async () => {
  const c = CONV_CASES[2]!;
  const g = convGeometry(c.x, c.w, c.stride, c.pad, c.groups);
  const x = withNaN(random(numel(c.x), 1), 0.1, 0.7);
  const w = random(numel(c.w), 2);
  const b = random(g.oc, 3);
  const gy = withNaN(random(g.n * g.oc * g.oh * g.ow, 4), 0.3);
  const got = await runConv(x, w, b, gy, g, true);
  const refY = refConv.conv2dForward(x, w, b, g, true);
  assert.ok(refY.some(Number.isNaN) && refY.some((v) => !Number.isNaN(v)), 'the case puts NaN in some outputs, not all');
  checkConv('NaN in x and gy', got, x, w, b, gy, g, true);
  // A NaN weight spreads to every output of its channel, padded taps included (0 · NaN = NaN).
  const wNaN = withNaN(w, 0.5);
  const y = (await runConv(random(numel(c.x), 1), wNaN, b, gy, g, true)).y;
  assertClose(y, refConv.conv2dForward(random(numel(c.x), 1), wNaN, b, g, true), 'NaN weight: forward', tol(30));
});

interface LinearCase {
  readonly name: string;
  readonly g: LinearGeometry;
}

const LINEAR_CASES: readonly LinearCase[] = [
  { name: 'batch 1, odd k (tiled GEMM)', g: { m: 1, k: 37, n: 70 } },
  { name: 'batch 1, k % 4 = 0 (matrix–vector path)', g: { m: 1, k: 200, n: 70 } },
  { name: 'batch 3, n not a multiple of 4 (matrix–vector path)', g: { m: 3, k: 132, n: 9 } },
  { name: 'batch 5, k and n across tile edges', g: { m: 5, k: 130, n: 66 } },
  { name: 'batch 67 (rows across a tile edge)', g: { m: 67, k: 20, n: 9 } },
];

async function runLinear(
  x: Float32Array<ArrayBuffer>,
  w: Float32Array<ArrayBuffer>,
  b: Float32Array<ArrayBuffer> | null,
  gy: Float32Array<ArrayBuffer>,
  g: LinearGeometry,
  relu: boolean,
): Promise<{ y: Float32Array; gx: Float32Array; gw: Float32Array; gb: Float32Array | null }> {
  if ('reason' in opened) throw new Error(opened.reason);
  const { ctx } = opened;
  const [xb, wb, gyb] = [upload(ctx, x), upload(ctx, w), upload(ctx, gy)];
  const bb = b ? upload(ctx, b) : null;
  const [yb, gxb, gwb] = [ctx.buffer(g.m * g.n * 4), ctx.buffer(x.length * 4), ctx.buffer(w.length * 4)];
  const gbb = b ? ctx.buffer(g.n * 4) : null;
  linear(ctx, xb, wb, bb, yb, g, relu);
  linearBackwardData(ctx, gyb, wb, gxb, g);
  linearBackwardWeights(ctx, gyb, xb, gwb, gbb, g);
  const out = {
    y: await download(ctx, yb, g.m * g.n),
    gx: await download(ctx, gxb, x.length),
    gw: await download(ctx, gwb, w.length),
    gb: gbb ? await download(ctx, gbb, g.n) : null,
  };
  for (const buf of [xb, wb, gyb, bb, yb, gxb, gwb, gbb]) buf?.destroy();
  return out;
}

function checkLinear(
  what: string,
  got: Awaited<ReturnType<typeof runLinear>>,
  x: Float32Array<ArrayBuffer>,
  w: Float32Array<ArrayBuffer>,
  b: Float32Array<ArrayBuffer> | null,
  gy: Float32Array<ArrayBuffer>,
  g: LinearGeometry,
  relu: boolean,
): void {
  assertClose(got.y, refLinear.linearForward(x, w, b, g, relu), `${what}: forward`, tol(g.k));
  assertClose(got.gx, refLinear.linearBackwardData(gy, w, g), `${what}: backward data`, tol(g.n));
  const ref = refLinear.linearBackwardWeights(gy, x, g, b !== null);
  assertClose(got.gw, ref.gw, `${what}: backward weights`, tol(g.m));
  if (b) assertClose(got.gb!, ref.gb!, `${what}: bias gradient`, tol(g.m));
}

for (const [i, c] of LINEAR_CASES.entries()) {
  test(`linear forward/backward match the reference: ${c.name}`, { skip }, async () => {
    const { g } = c;
    const x = random(g.m * g.k, 50 + i);
    const w = random(g.n * g.k, 60 + i);
    const b = random(g.n, 70 + i);
    const gy = random(g.m * g.n, 80 + i);
    checkLinear('bias + ReLU', await runLinear(x, w, b, gy, g, true), x, w, b, gy, g, true);
    checkLinear('no bias, no ReLU', await runLinear(x, w, null, gy, g, false), x, w, null, gy, g, false);
  });
}

test('linear propagates NaN where the reference does (ReLU keeps NaN)', { skip }, async () => {
  const g = { m: 3, k: 40, n: 12 };
  const x = withNaN(random(g.m * g.k, 5), 0.5);
  const w = random(g.n * g.k, 6);
  const b = random(g.n, 7);
  const gy = withNaN(random(g.m * g.n, 8), 0.9);
  const got = await runLinear(x, w, b, gy, g, true);
  const refY = refLinear.linearForward(x, w, b, g, true);
  assert.ok(refY.some(Number.isNaN) && refY.some((v) => !Number.isNaN(v)), 'the case puts NaN in some outputs, not all');
  checkLinear('NaN in x and gy', got, x, w, b, gy, g, true);
});

test('the 64×64 tiles (chosen for large products) match the reference too', { skip }, async () => {
  forceTileShape(LARGE_TILES);
  try {
    const c = CONV_CASES[3]!;
    const g = convGeometry(c.x, c.w, c.stride, c.pad, c.groups);
    const x = random(numel(c.x), 90);
    const w = random(numel(c.w), 91);
    const b = random(g.oc, 92);
    const gy = random(g.n * g.oc * g.oh * g.ow, 93);
    checkConv('conv, large tiles', await runConv(x, w, b, gy, g, true), x, w, b, gy, g, true);
    const lg = { m: 67, k: 70, n: 66 };
    const [lx, lw, lb, lgy] = [random(lg.m * lg.k, 94), random(lg.n * lg.k, 95), random(lg.n, 96), random(lg.m * lg.n, 97)];
    checkLinear('linear, large tiles', await runLinear(lx, lw, lb, lgy, lg, true), lx, lw, lb, lgy, lg, true);
  } finally {
    forceTileShape(null);
  }
});
