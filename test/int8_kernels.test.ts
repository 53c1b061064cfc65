// The oneDNN int8 network (native/int8.cpp) against the TypeScript integer reference
// (src/quant/int8_reference.ts): convolutions with s8 input (the first layer) and u8 input (after a
// ReLU), groups, strides, padding, max pooling on u8, inner products reading an NHWC-flattened
// activation, u8/s8/f32 outputs, batch 1 and larger; the f32 LRN island (alexnet-2012) and the
// adaptive average pool on integers (uneven windows, up- and downsampling). Activations must agree
// to ±1 LSB; f32 outputs to a stated tolerance. Hostile specs throw a JS error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAddon } from '../src/backend/native/addon.js';
import { createInt8Engine } from '../src/quant/int8_engine.js';
import { runInt8Reference } from '../src/quant/int8_reference.js';
import {
  layerShapes,
  type Int8ConvSpec,
  type Int8LinearSpec,
  type Int8LrnSpec,
  type Int8NetSpec,
  type Int8Output,
} from '../src/quant/int8_spec.js';
import { Generator } from '../src/random.js';

const addon = loadAddon().addon;
const skip = addon ? false : `native addon unavailable: ${loadAddon().reason}`;

function ints(n: number, gen: Generator, lo: number, hi: number): Int8Array {
  return Int8Array.from({ length: n }, () => lo + Math.floor(gen.uniform() * (hi - lo + 1)));
}

function floats(n: number, gen: Generator, lo: number, hi: number): Float32Array {
  return Float32Array.from({ length: n }, () => lo + gen.uniform() * (hi - lo));
}

/** Scales that spread a K-term accumulator of random s8·(s8|u8) over about `range` output steps. */
function scalesFor(oc: number, k: number, inMax: number, range: number, gen: Generator): Float32Array {
  const typical = Math.sqrt(k) * 73 * (inMax / Math.sqrt(3));
  return floats(oc, gen, (0.5 * range) / typical, (1.5 * range) / typical);
}

function conv(
  gen: Generator,
  c: number,
  oc: number,
  o: { k: number; stride?: number; pad?: number; groups?: number; relu?: boolean; out?: Int8Output; inMax: number },
): Int8ConvSpec {
  const groups = o.groups ?? 1;
  const k = (c / groups) * o.k * o.k;
  const out = o.out ?? 'u8';
  return {
    kind: 'conv',
    oc,
    kh: o.k,
    kw: o.k,
    strideH: o.stride ?? 1,
    strideW: o.stride ?? 1,
    padH: o.pad ?? 0,
    padW: o.pad ?? 0,
    groups,
    weight: ints(oc * k, gen, -127, 127),
    scales: scalesFor(oc, k, o.inMax, out === 'f32' ? 1 : 120, gen),
    bias: floats(oc, gen, -2000, 2000),
    relu: o.relu ?? true,
    out,
  };
}

function linear(gen: Generator, k: number, oc: number, o: { relu?: boolean; out?: Int8Output; inMax: number }): Int8LinearSpec {
  const out = o.out ?? 'u8';
  return {
    kind: 'linear',
    oc,
    weight: ints(oc * k, gen, -127, 127),
    scales: scalesFor(oc, k, o.inMax, out === 'f32' ? 1 : 120, gen),
    bias: floats(oc, gen, -2000, 2000),
    relu: o.relu ?? true,
    out,
  };
}

/** Native and reference outputs of `spec` on n random images. */
function both(spec: Int8NetSpec, n: number, seed: number): { got: Float32Array; want: Float32Array } {
  const x = floats(n * spec.c * spec.h * spec.w, new Generator(seed), -1, 1);
  const engine = createInt8Engine(spec);
  assert.equal(engine.name, 'native');
  return { got: engine.run(x, n), want: runInt8Reference(spec, x, n) };
}

function assertWithinLsb(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  let off = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (d > 0) off++;
    worst = Math.max(worst, d);
  }
  assert.ok(worst <= 1, `${what}: worst difference ${worst} LSB (${off} of ${want.length} values differ)`);
  assert.ok(off <= want.length * 0.01, `${what}: ${off} of ${want.length} values differ by 1 LSB (more than 1 %)`);
}

/** Asserts the outputs are not trivially saturated or zero (the test would prove little). */
function assertSpread(v: Float32Array, what: string): void {
  const distinct = new Set(v).size;
  assert.ok(distinct > 20, `${what}: only ${distinct} distinct output values`);
}

test('int8 conv: s8 input (first layer), stride 4, padding, u8 output, batch 1 and 3', { skip }, () => {
  for (const n of [1, 3]) {
    const gen = new Generator(11);
    const spec: Int8NetSpec = {
      c: 3,
      h: 23,
      w: 23,
      inputScale: 1 / 127,
      layers: [conv(gen, 3, 16, { k: 11, stride: 4, pad: 2, inMax: 127 })],
    };
    const { got, want } = both(spec, n, 5 + n);
    assertSpread(want, 'conv1');
    assertWithinLsb(got, want, `conv1 batch ${n}`);
  }
});

test('int8 conv on u8 activations: groups 2, 5x5 and 3x3, padding, s8 output without ReLU; max pooling', { skip }, () => {
  const gen = new Generator(12);
  const spec: Int8NetSpec = {
    c: 1,
    h: 19,
    w: 19,
    inputScale: 1 / 127,
    layers: [
      conv(gen, 1, 32, { k: 3, stride: 2, pad: 1, inMax: 127 }),
      { kind: 'maxpool', kh: 3, kw: 3, strideH: 2, strideW: 2 },
      conv(gen, 32, 48, { k: 5, pad: 2, groups: 2, inMax: 255 }),
      conv(gen, 48, 32, { k: 3, pad: 1, groups: 2, relu: false, out: 's8', inMax: 255 }),
    ],
  };
  for (const n of [1, 4]) {
    const { got, want } = both(spec, n, 20 + n);
    assertSpread(want, 'grouped conv');
    assert.ok(
      want.some((v) => v < 0),
      's8 output has negative values',
    );
    assertWithinLsb(got, want, `grouped conv batch ${n}`);
  }
});

test('int8 inner products after a convolution (NHWC flatten): u8 hidden layer, f32 logits', { skip }, () => {
  const gen = new Generator(13);
  const spec: Int8NetSpec = {
    c: 2,
    h: 9,
    w: 9,
    inputScale: 0.01,
    layers: [
      conv(gen, 2, 8, { k: 3, stride: 2, inMax: 100 }),
      { kind: 'maxpool', kh: 2, kw: 2, strideH: 1, strideW: 1 },
      linear(gen, 8 * 3 * 3, 64, { inMax: 255 }),
      linear(gen, 64, 10, { relu: false, out: 'f32', inMax: 255 }),
    ],
  };
  assert.deepEqual(layerShapes(spec).at(-1), [10, 1, 1]);
  for (const n of [1, 2, 7]) {
    const { got, want } = both(spec, n, 30 + n);
    // The logits: an off-by-one LSB in the hidden layer moves them by scale·|w| at most.
    let worst = 0;
    let peak = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      peak = Math.max(peak, Math.abs(want[i]!));
    }
    assert.ok(peak > 0.1, `logits are not all near zero (peak ${peak})`);
    assert.ok(worst <= 0.02 * peak, `batch ${n}: logits differ by ${worst} (peak ${peak})`);
  }
});

test('int8 hidden inner product alone: the exact u8 values (±1 LSB)', { skip }, () => {
  const gen = new Generator(14);
  const spec: Int8NetSpec = { c: 300, h: 1, w: 1, inputScale: 1 / 127, layers: [linear(gen, 300, 50, { inMax: 127 })] };
  const { got, want } = both(spec, 5, 40);
  assertSpread(want, 'linear');
  assertWithinLsb(got, want, 'linear');
});

/** alexnet-2012's LRN after a convolution whose f32 output has about `range` as its largest values. */
function lrnAfter(range: number): Int8LrnSpec {
  return { kind: 'lrn', size: 5, alpha: 5e-4 * 2000, beta: 0.75, k: 2, outputScale: range / 255 / 4, out: 'u8' };
}

test('int8 LRN island: f32 conv output, f32 LRN, requantized to u8; then a grouped conv and pooling', { skip }, () => {
  const gen = new Generator(16);
  // conv1 writes f32 (scales map the accumulator to values up to about 20); the LRN's alpha is
  // large enough that the normalisation really bends the values (20² · alpha/5 · 5 ≈ k).
  const conv1 = conv(gen, 3, 24, { k: 5, stride: 2, inMax: 127, out: 'f32' });
  conv1.scales = conv1.scales.map((v) => v * 20);
  const spec: Int8NetSpec = {
    c: 3,
    h: 21,
    w: 21,
    inputScale: 1 / 127,
    layers: [
      conv1,
      { ...lrnAfter(20), alpha: 0.025 },
      { kind: 'maxpool', kh: 3, kw: 3, strideH: 2, strideW: 2 },
      conv(gen, 24, 32, { k: 3, pad: 1, groups: 2, inMax: 255 }),
    ],
  };
  for (const n of [1, 3]) {
    const { got, want } = both({ ...spec, layers: spec.layers.slice(0, 2) }, n, 50 + n);
    assertSpread(want, 'lrn');
    assertWithinLsb(got, want, `conv + lrn batch ${n}`);
    const whole = both(spec, n, 60 + n);
    assertSpread(whole.want, 'after lrn');
    assertWithinLsb(whole.got, whole.want, `conv + lrn + pool + grouped conv batch ${n}`);
  }
});

test('int8 adaptive average pool: uneven windows, up and down, u8 and s8, the rounded mean', { skip }, () => {
  const gen = new Generator(17);
  for (const [h, oh, out] of [
    [7, 3, 'u8'],
    [5, 6, 's8'],
    [9, 6, 'u8'],
  ] as const) {
    const first = conv(gen, 2, 16, { k: 3, pad: 1, inMax: 127, out, relu: out === 'u8' });
    // The conv alone and the pool after it: the pool's rounding must be the reference's exactly.
    const convOnly: Int8NetSpec = { c: 2, h, w: h, inputScale: 1 / 127, layers: [first] };
    const pooled: Int8NetSpec = { ...convOnly, layers: [first, { kind: 'avgpool', oh, ow: oh + 1 }] };
    assert.deepEqual(layerShapes(pooled).at(-1), [16, oh, oh + 1]);
    const a = both(convOnly, 2, 70 + h);
    const b = both(pooled, 2, 70 + h);
    if (a.got.every((v, i) => v === a.want[i])) assert.deepEqual([...b.got], [...b.want], `${h}→${oh}: exact when the conv agrees`);
    assertSpread(b.want, `avgpool ${h}→${oh}`);
    assertWithinLsb(b.got, b.want, `avgpool ${h}→${oh} ${out}`);
  }
  // Then a classifier reads the pooled NHWC activation.
  const spec: Int8NetSpec = {
    c: 2,
    h: 5,
    w: 5,
    inputScale: 1 / 127,
    layers: [
      conv(gen, 2, 8, { k: 3, pad: 1, inMax: 127 }),
      { kind: 'avgpool', oh: 6, ow: 6 },
      linear(gen, 8 * 36, 10, { relu: false, out: 'f32', inMax: 255 }),
    ],
  };
  const { got, want } = both(spec, 3, 80);
  const peak = Math.max(...want.map(Math.abs));
  const worst = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)));
  assert.ok(peak > 0.1 && worst <= 0.02 * peak, `logits after the pool differ by ${worst} (peak ${peak})`);
});

test('int8 network: a bad spec or input throws a JS error, never crashes', { skip }, () => {
  const gen = new Generator(15);
  const ok: Int8NetSpec = { c: 1, h: 8, w: 8, inputScale: 0.1, layers: [conv(gen, 1, 4, { k: 3, inMax: 127 })] };
  const a = addon!;
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [] }), /layers must be a non-empty array/);
  assert.throws(() => a.int8NetCreate({ ...ok, inputScale: 0 }), /inputScale must be positive/);
  const short = { ...(ok.layers[0] as Int8ConvSpec), weight: new Int8Array(3) };
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [short] }), /weight holds 3 values, the layer needs 36/);
  const big = { ...(ok.layers[0] as Int8ConvSpec), kh: 20, kw: 20 };
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [big] }), /kernel is larger/);
  const afterF32 = [conv(gen, 1, 4, { k: 3, inMax: 127, out: 'f32' }), conv(gen, 4, 4, { k: 3, inMax: 127 })];
  assert.throws(() => a.int8NetCreate({ ...ok, layers: afterF32 }), /only the last layer/);
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [ok.layers[0]!, lrnAfter(1)] }), /an lrn must follow a layer with f32 output/);
  const f32Linear = linear(gen, 64, 4, { inMax: 127, out: 'f32' });
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [f32Linear, lrnAfter(1)] }), /an lrn must follow a convolution/);
  const f32Conv = conv(gen, 1, 4, { k: 3, inMax: 127, out: 'f32' });
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [f32Conv, { ...lrnAfter(1), size: 4 }] }), /size must be odd/);
  assert.throws(
    () => a.int8NetCreate({ ...ok, layers: [f32Conv, { ...lrnAfter(1), outputScale: 0 }] }),
    /outputScale must be finite and positive/,
  );
  assert.throws(() => a.int8NetCreate({ ...ok, layers: [ok.layers[0]!, { kind: 'avgpool', oh: 0, ow: 2 }] }), /oh/);
  const buffer = a.fromArray(new Float32Array(4), [4]) as unknown as Parameters<typeof a.int8NetRun>[0];
  assert.throws(() => a.int8NetRun(buffer, new Float32Array(64), 1), /not an int8 network handle/);
  a.dispose(buffer as unknown as Parameters<typeof a.dispose>[0]);
  const net = a.int8NetCreate(ok);
  assert.throws(() => a.int8NetRun(net, new Float32Array(10), 1), /holds 10 values, 1 images need 64/);
  assert.throws(() => a.int8NetRun(net, new Float32Array(64), 0), /batch size/);
});
