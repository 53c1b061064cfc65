// The quantization arithmetic on its own: the range observers (min-max; percentile from a histogram
// whose range doubles as larger values arrive; entropy from KL divergence), symmetric per-channel
// weight quantization, and the plan. No addon needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setBackend } from '../src/backend/registry.js';
import { createModel } from '../src/models/index.js';
import { Conv2d } from '../src/nn/conv.js';
import { clippingDivergence, entropyThresholdBins } from '../src/quant/entropy.js';
import { EntropyObserver, MinMaxObserver, PercentileObserver } from '../src/quant/observers.js';
import { Generator } from '../src/random.js';
import { planOf } from '../src/quant/plan.js';
import { quantizePerChannel } from '../src/quant/quantize.js';
import { roundHalfEven } from '../src/quant/int8_reference.js';

test('min-max observer: the largest |x| over every batch', () => {
  const o = new MinMaxObserver();
  assert.equal(o.range(), 1, 'nothing seen: a neutral range');
  o.observe([0.5, -3, 2]);
  o.observe(Float32Array.of(1, 2.5));
  assert.equal(o.range(), 3);
});

test('percentile observer: the 99th percentile of |x|, within one bin, however the range grew', () => {
  const o = new PercentileObserver(99);
  // 1..10000 in growing batches: the histogram's range doubles several times on the way.
  for (let start = 1; start <= 10000; start *= 10)
    o.observe(Float64Array.from({ length: Math.min(start * 9, 10001 - start) }, (_, i) => start + i));
  const r = o.range();
  assert.ok(Math.abs(r - 9900) <= 16384 / 4096 + 1, `99th percentile of 1..10000: ${r}`);
  const all = new PercentileObserver(100);
  all.observe([-7, 3]);
  assert.equal(all.range(), 7, 'the 100th percentile is the maximum');
  // An outlier moves min-max, not the percentile.
  const p = new PercentileObserver(99.9);
  const m = new MinMaxObserver();
  const values = Float32Array.from({ length: 100000 }, (_, i) => (i % 100) / 100);
  values[0] = 1000;
  p.observe(values);
  m.observe(values);
  assert.equal(m.range(), 1000);
  assert.ok(p.range() < 2, `percentile ignores the outlier: ${p.range()}`);
});

test('entropy observer: a Gaussian with rare outliers is clipped well inside its maximum; a uniform one near it', () => {
  const gen = new Generator(5);
  const gauss = new EntropyObserver(128);
  const max = new MinMaxObserver();
  // 200,000 N(0, 1) values in batches; 20 outliers at ±40..60 arrive in a later batch (the range doubles).
  for (let b = 0; b < 4; b++) {
    const v = Float32Array.from({ length: 50000 }, () => gen.normal());
    if (b === 2) for (let i = 0; i < 20; i++) v[i * 7] = (i % 2 ? -1 : 1) * (40 + i);
    gauss.observe(v);
    max.observe(v);
  }
  assert.equal(max.range(), 59);
  const g = gauss.range();
  assert.ok(g > 2.5 && g < 8, `the Gaussian's threshold ${g} lies a few σ out, far inside the maximum 59`);
  // Uniform [0, 1) stored as u8 (256 levels): nothing to clip, the threshold is the maximum or just below.
  const uniform = new EntropyObserver(256);
  uniform.observe(Float32Array.from({ length: 200000 }, () => gen.uniform()));
  const u = uniform.range();
  assert.ok(u > 0.97 && u <= 1, `uniform threshold ${u}`);
  assert.equal(new EntropyObserver().range(), 1, 'nothing seen: a neutral range');
});

test('entropy: the divergence is zero where nothing is clipped or merged, and grows as clipping cuts into the mass', () => {
  // 8 equal bins with 8 levels: i = 8 keeps everything, one bin per level: P = Q.
  const flat = new Float64Array(8).fill(10);
  assert.ok(Math.abs(clippingDivergence(flat, 8, 8)) < 1e-12);
  // A flat histogram: keeping fewer bins piles the clipped mass into the last one, which Q spreads out.
  const wide = new Float64Array(64).fill(10);
  assert.ok(clippingDivergence(wide, 16, 8) > clippingDivergence(wide, 32, 8));
  assert.ok(clippingDivergence(wide, 32, 8) > clippingDivergence(wide, 64, 8));
  assert.equal(entropyThresholdBins(wide, 8), 64, 'flat: no clipping');
  // Half the mass in bin 0 and a long thin tail: clipping the tail wins.
  const spike = new Float64Array(512).fill(1);
  spike[0] = 1e6;
  for (let j = 1; j < 16; j++) spike[j] = 1e5;
  assert.ok(entropyThresholdBins(spike, 8) < 256, `spike threshold ${entropyThresholdBins(spike, 8)}`);
});

test('per-channel symmetric weights: scale = max |w| / 127 per row, error at most half a step', () => {
  const w = Float32Array.of(0.5, -1, 0.25, 0, 0, 0, 3, 2, -3);
  const { q, scales } = quantizePerChannel(w, 3);
  assert.deepEqual(
    [...scales],
    [Math.fround(1 / 127), 1, Math.fround(3 / 127)].map((s, i) => (i === 1 ? 1 : s)),
  );
  assert.deepEqual([...q.slice(0, 3)], [64, -127, 32]);
  assert.deepEqual([...q.slice(3, 6)], [0, 0, 0], 'an all-zero row stays zero (scale 1)');
  for (let i = 0; i < 9; i++) {
    const s = scales[Math.floor(i / 3)]!;
    assert.ok(Math.abs(q[i]! * s - w[i]!) <= s / 2 + 1e-7, `w[${i}]`);
  }
});

test('round half to even, as the CPU rounds', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, -3]);
});

test("the plan: each ReLU fused, alexnet-2012's LRNs as islands after conv1/conv2, a resizing adaptive pool kept", () => {
  setBackend('reference');
  const a2012 = planOf(createModel('alexnet-2012', { numClasses: 10, init: 'none' }));
  const lrns = a2012.flatMap((s) => (s.kind === 'weight' && s.lrn ? [[s.name, s.lrn.size, s.endsAt]] : []));
  assert.deepEqual(lrns, [
    ['features.0', 5, 2],
    ['features.4', 5, 6],
  ]);
  const groups = a2012.flatMap((s) => (s.kind === 'weight' && s.layer instanceof Conv2d ? [s.layer.groups] : []));
  assert.deepEqual(groups, [1, 2, 1, 2, 2]);
  const small = planOf(createModel('alexnet', { numClasses: 10, inputSize: 63, init: 'none' }));
  const pool = small.find((s) => s.kind === 'avgpool');
  assert.ok(pool?.kind === 'avgpool' && pool.oh === 6 && pool.ow === 6, 'the pool that resizes 1×1 to 6×6 is a step');
  const wideFc6 = small.find((s) => s.kind === 'weight' && s.name === 'classifier.1');
  assert.ok(wideFc6?.kind === 'weight');
  assert.deepEqual(wideFc6.flattened, [256, 6, 6]);
  assert.equal(
    planOf(createModel('alexnet', { numClasses: 10, init: 'none' })).some((s) => s.kind === 'avgpool'),
    false,
    'at 224 the pool is an identity, left out',
  );
  const plan = planOf(createModel('alexnet-v1', { numClasses: 10, inChannels: 1, inputSize: 65, init: 'none' }));
  const weights = plan.filter((s) => s.kind === 'weight');
  assert.deepEqual(
    weights.map((s) => [s.name, s.relu]),
    [
      ['conv.0', true],
      ['conv.3', true],
      ['conv.6', true],
      ['conv.8', true],
      ['conv.10', true],
      ['fc_layer.0', true],
      ['fc_layer.3', true],
      ['fc_layer.6', false],
    ],
  );
  assert.equal(plan.filter((s) => s.kind === 'maxpool').length, 3);
  const fc6 = weights[5];
  assert.ok(fc6?.kind === 'weight');
  assert.deepEqual(fc6.flattened, [256, 1, 1]);
});
