// Every native kernel against the reference backend on the same seeded inputs, f32 to 1e-4
// relative (max|diff| / max|ref|). Inputs come both plain and in oneDNN's blocked layouts (the
// output of a convolution), so layout propagation and reorders are exercised too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, ConvGeometry, Shape, Storage } from '../src/backend/backend.js';
import { adaptivePoolGeometry, convGeometry, poolGeometry } from '../src/backend/conv_util.js';
import { assertClose, native, pairOf, randomArray, reference, size, skip } from './native_helpers.js';

const nb = native as Backend;

interface ConvCase {
  name: string;
  x: Shape;
  w: Shape;
  stride: number;
  pad: number;
  groups: number;
  relu: boolean;
  bias: boolean;
}

const convCases: ConvCase[] = [
  { name: 'conv1-like 11x11 stride 4', x: [2, 3, 35, 35], w: [16, 3, 11, 11], stride: 4, pad: 2, groups: 1, relu: true, bias: true },
  { name: 'grouped 5x5 pad 2', x: [2, 16, 9, 9], w: [32, 8, 5, 5], stride: 1, pad: 2, groups: 2, relu: false, bias: true },
  { name: '3x3 no bias, odd channels', x: [3, 5, 7, 6], w: [7, 5, 3, 3], stride: 1, pad: 1, groups: 1, relu: true, bias: false },
  {
    name: '3x3 stride 1 (alexnet conv3-5 shape)',
    x: [4, 32, 13, 13],
    w: [64, 32, 3, 3],
    stride: 1,
    pad: 1,
    groups: 1,
    relu: true,
    bias: true,
  },
  {
    name: 'alexnet-v1 conv1 padding (floor drops a column)',
    x: [1, 3, 31, 31],
    w: [8, 3, 11, 11],
    stride: 4,
    pad: 1,
    groups: 1,
    relu: false,
    bias: true,
  },
];

for (const c of convCases) {
  test(`conv2d forward/backward: ${c.name}`, { skip }, () => {
    const g = convGeometry(c.x, c.w, [c.stride, c.stride], [c.pad, c.pad], c.groups);
    const x = pairOf(randomArray(size(c.x), 1), c.x);
    const w = pairOf(randomArray(size(c.w), 2, 0.3), c.w);
    const b = c.bias ? pairOf(randomArray(c.w[0]!, 3), [c.w[0]!]) : null;
    const yShape = [g.n, g.oc, g.oh, g.ow];
    const yn = nb.conv2d(x.n, w.n, b?.n ?? null, g, c.relu);
    const yr = reference.conv2d(x.r, w.r, b?.r ?? null, g, c.relu);
    assertClose('y', nb, yn, yr, yShape);
    const gy = pairOf(randomArray(size(yShape), 4), yShape);
    assertClose('dx', nb, nb.conv2dBackwardData(gy.n, w.n, g), reference.conv2dBackwardData(gy.r, w.r, g), c.x);
    const gn = nb.conv2dBackwardWeights(gy.n, x.n, g, c.bias);
    const gr = reference.conv2dBackwardWeights(gy.r, x.r, g, c.bias);
    assertClose('dw', nb, gn.gw, gr.gw, c.w);
    if (c.bias) assertClose('db', nb, gn.gb!, gr.gb!, [c.w[0]!]);
    else assert.equal(gn.gb, null);
  });
}

/** A blocked-layout activation: conv output of random data (and the same on the reference). */
function blockedActivation(shape: Shape, seed: number): { n: Storage; r: Storage; g: ConvGeometry } {
  const [n = 1, c = 1, h = 1, w = 1] = shape;
  const xs: Shape = [n, 8, h, w];
  const ws: Shape = [c, 8, 3, 3];
  const g = convGeometry(xs, ws, [1, 1], [1, 1], 1);
  const x = pairOf(randomArray(size(xs), seed), xs);
  const wt = pairOf(randomArray(size(ws), seed + 1, 0.3), ws);
  const n2 = nb.conv2d(x.n, wt.n, null, g, false);
  // The reference gets exactly the native values, so each test isolates the op under test (the
  // conv itself is checked above and may round differently in the last bits).
  return { n: n2, r: reference.fromArray(nb.toArray(n2, shape), shape), g };
}

test('conv output stays blocked and feeds the next conv without a round trip', { skip }, () => {
  const a = blockedActivation([2, 32, 8, 8], 10);
  assert.equal(native!.layoutOf(a.n), 'blocked');
  const native2 = native!;
  assert.equal(native2.layoutOf(a.n), 'blocked');
  const ws: Shape = [16, 32, 3, 3];
  const g = convGeometry([2, 32, 8, 8], ws, [1, 1], [1, 1], 1);
  const w = pairOf(randomArray(size(ws), 12, 0.2), ws);
  assertClose('conv(conv(x))', nb, nb.conv2d(a.n, w.n, null, g, true), reference.conv2d(a.r, w.r, null, g, true), [2, 16, 8, 8]);
});

for (const [what, blocked] of [
  ['plain', false],
  ['blocked', true],
] as const) {
  test(`max_pool2d forward/backward (${what} input, ceil mode and padding)`, { skip }, () => {
    const shape: Shape = [2, 32, 9, 9];
    const x = blocked ? blockedActivation(shape, 20) : pairOf(randomArray(size(shape), 20), shape);
    for (const [k, s, p, ceil] of [
      [3, 2, 0, false],
      [3, 2, 0, true],
      [2, 2, 1, true],
      [3, 2, 1, false],
    ] as const) {
      const g = poolGeometry(shape, [k, k], [s, s], [p, p], ceil);
      const yShape = [g.n, g.c, g.oh, g.ow];
      const yn = nb.maxPool2d(x.n, g, true);
      const yr = reference.maxPool2d(x.r, g, true);
      assertClose(`y k${k} s${s} p${p} ceil=${ceil}`, nb, yn.y, yr.y, yShape);
      const gy = pairOf(randomArray(size(yShape), 21), yShape);
      assertClose(
        `dx k${k}`,
        nb,
        nb.maxPool2dBackward(gy.n, x.n, yn.workspace, g),
        reference.maxPool2dBackward(gy.r, x.r, yr.workspace, g),
        shape,
      );
      // Without a workspace (forward ran in inference mode) backward recomputes it.
      const inf = nb.maxPool2d(x.n, g, false);
      assert.equal(inf.workspace, null);
      assertClose(
        `dx without workspace k${k}`,
        nb,
        nb.maxPool2dBackward(gy.n, x.n, null, g),
        reference.maxPool2dBackward(gy.r, x.r, yr.workspace, g),
        shape,
      );
    }
  });

  test(`local response norm forward/backward matches PyTorch's alpha/size (${what} input)`, { skip }, () => {
    const shape: Shape = [2, 32, 5, 5];
    const x = blocked ? blockedActivation(shape, 30) : pairOf(randomArray(size(shape), 30, 3), shape);
    for (const p of [
      { size: 5, alpha: 5e-2, beta: 0.75, k: 2 },
      { size: 3, alpha: 0.3, beta: 0.5, k: 1 },
    ]) {
      const yn = nb.lrn(x.n, shape, p, true);
      const yr = reference.lrn(x.r, shape, p, true);
      assertClose(`y size ${p.size}`, nb, yn.y, yr.y, shape);
      const gy = pairOf(randomArray(size(shape), 31), shape);
      assertClose(
        `dx size ${p.size}`,
        nb,
        nb.lrnBackward(gy.n, x.n, yn.y, yn.workspace, shape, p),
        reference.lrnBackward(gy.r, x.r, yr.y, yr.workspace, shape, p),
        shape,
      );
    }
  });

  test(`relu forward/backward (${what} input)`, { skip }, () => {
    const shape: Shape = [2, 32, 4, 4];
    const x = blocked ? blockedActivation(shape, 40) : pairOf(randomArray(size(shape), 40), shape);
    const yn = nb.relu(x.n, shape);
    const yr = reference.relu(x.r, shape);
    assertClose('y', nb, yn, yr, shape);
    const gy = pairOf(randomArray(size(shape), 41), shape);
    assertClose('dx', nb, nb.reluBackward(gy.n, yn, shape), reference.reluBackward(gy.r, yr, shape), shape);
  });

  test(`reshape and elementwise ops (${what} input)`, { skip }, () => {
    const shape: Shape = [2, 32, 3, 3];
    const x = blocked ? blockedActivation(shape, 50) : pairOf(randomArray(size(shape), 50), shape);
    const flat: Shape = [2, 32 * 9];
    assertClose('reshape', nb, nb.reshape(x.n, shape, flat), reference.reshape(x.r, shape, flat), flat);
    const other = pairOf(randomArray(size(shape), 51), shape);
    for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as const) {
      assertClose(op, nb, nb.binary(op, x.n, other.n, shape), reference.binary(op, x.r, other.r, shape), shape);
    }
    for (const op of ['neg', 'exp', 'abs', 'relu', 'sign'] as const) {
      assertClose(op, nb, nb.unary(op, x.n, shape), reference.unary(op, x.r, shape), shape);
    }
    const pos = { n: nb.unary('abs', x.n, shape), r: reference.unary('abs', x.r, shape) };
    for (const op of ['log', 'sqrt'] as const) {
      assertClose(op, nb, nb.unary(op, pos.n, shape), reference.unary(op, pos.r, shape), shape);
    }
    for (const op of ['add', 'mul', 'pow', 'max', 'min', 'rsub', 'rdiv'] as const) {
      const base = op === 'pow' ? pos : x;
      assertClose(`scalar ${op}`, nb, nb.scalar(op, base.n, 1.5, shape), reference.scalar(op, base.r, 1.5, shape), shape);
    }
    for (const axis of [null, 0, 1, 3]) {
      const outShape = axis === null ? [] : shape.filter((_, i) => i !== axis);
      assertClose(`sum axis ${axis}`, nb, nb.sum(x.n, shape, axis), reference.sum(x.r, shape, axis), outShape);
    }
    const b = pairOf(randomArray(32, 52), [32]);
    assertClose('addBias', nb, nb.addBias(x.n, b.n, shape), reference.addBias(x.r, b.r, shape), shape);
    const acc = { n: nb.clone(other.n, shape), r: reference.clone(other.r, shape) };
    nb.axpyInPlace(acc.n, x.n, 0.5, shape);
    reference.axpyInPlace(acc.r, x.r, 0.5, shape);
    assertClose('axpyInPlace', nb, acc.n, acc.r, shape);
  });
}

test('linear forward (fused relu) and backward, input from a blocked conv output', { skip }, () => {
  const act = blockedActivation([4, 16, 3, 3], 60);
  const k = 16 * 9;
  const x = { n: nb.reshape(act.n, [4, 16, 3, 3], [4, k]), r: reference.reshape(act.r, [4, 16, 3, 3], [4, k]) };
  const g = { m: 4, k, n: 10 };
  const w = pairOf(randomArray(10 * k, 61, 0.1), [10, k]);
  const b = pairOf(randomArray(10, 62), [10]);
  for (const relu of [false, true]) {
    assertClose(`y relu=${relu}`, nb, nb.linear(x.n, w.n, b.n, g, relu), reference.linear(x.r, w.r, b.r, g, relu), [4, 10]);
  }
  assertClose('y no bias', nb, nb.linear(x.n, w.n, null, g, false), reference.linear(x.r, w.r, null, g, false), [4, 10]);
  const gy = pairOf(randomArray(40, 63), [4, 10]);
  assertClose('dx', nb, nb.linearBackwardData(gy.n, w.n, g), reference.linearBackwardData(gy.r, w.r, g), [4, k]);
  const gn = nb.linearBackwardWeights(gy.n, x.n, g, true);
  const gr = reference.linearBackwardWeights(gy.r, x.r, g, true);
  assertClose('dw', nb, gn.gw, gr.gw, [10, k]);
  assertClose('db', nb, gn.gb!, gr.gb!, [10]);
  const noBias = nb.linearBackwardWeights(gy.n, x.n, g, false);
  assertClose('dw without bias', nb, noBias.gw, gr.gw, [10, k]);
  assert.equal(noBias.gb, null);
});

test('linear at batch 1 (the row-streaming path): forward with bias/ReLU, backward, from a blocked conv output', { skip }, () => {
  const act = blockedActivation([1, 32, 3, 3], 64);
  const k = 32 * 9;
  const x = { n: nb.reshape(act.n, [1, 32, 3, 3], [1, k]), r: reference.reshape(act.r, [1, 32, 3, 3], [1, k]) };
  const g = { m: 1, k, n: 37 };
  const w = pairOf(randomArray(37 * k, 65, 0.1), [37, k]);
  const b = pairOf(randomArray(37, 66), [37]);
  for (const relu of [false, true]) {
    assertClose(`y relu=${relu}`, nb, nb.linear(x.n, w.n, b.n, g, relu), reference.linear(x.r, w.r, b.r, g, relu), [1, 37]);
  }
  assertClose('y no bias', nb, nb.linear(x.n, w.n, null, g, false), reference.linear(x.r, w.r, null, g, false), [1, 37]);
  const gy = pairOf(randomArray(37, 67), [1, 37]);
  assertClose('dx', nb, nb.linearBackwardData(gy.n, w.n, g), reference.linearBackwardData(gy.r, w.r, g), [1, k]);
  const gn = nb.linearBackwardWeights(gy.n, x.n, g, true);
  assertClose('dw', nb, gn.gw, reference.linearBackwardWeights(gy.r, x.r, g, true).gw, [37, k]);
  // Lengths that leave remainders in every loop of the kernel (k = 16·18 + 13, n = 4·2 + 3).
  const x2 = pairOf(randomArray(301, 68), [1, 301]);
  const w2 = pairOf(randomArray(11 * 301, 69, 0.1), [11, 301]);
  const b2 = pairOf(randomArray(11, 70), [11]);
  const g2 = { m: 1, k: 301, n: 11 };
  assertClose('y odd sizes', nb, nb.linear(x2.n, w2.n, b2.n, g2, true), reference.linear(x2.r, w2.r, b2.r, g2, true), [1, 11]);
  // Enough weights to split the rows over the threads, unevenly (131 rows: 32 blocks of 4 and 3).
  const w3 = pairOf(randomArray(131 * 301, 71, 0.1), [131, 301]);
  const b3 = pairOf(randomArray(131, 72), [131]);
  const g3 = { m: 1, k: 301, n: 131 };
  assertClose('y split rows', nb, nb.linear(x2.n, w3.n, b3.n, g3, true), reference.linear(x2.r, w3.r, b3.r, g3, true), [1, 131]);
});

test('adaptive average pooling forward/backward (uneven windows)', { skip }, () => {
  const shape: Shape = [2, 4, 7, 5];
  const x = pairOf(randomArray(size(shape), 70), shape);
  for (const out of [
    [6, 6],
    [3, 2],
    [7, 5],
  ] as const) {
    const g = adaptivePoolGeometry(shape, out);
    const yShape = [2, 4, out[0], out[1]];
    assertClose(`y ${out}`, nb, nb.adaptiveAvgPool2d(x.n, g), reference.adaptiveAvgPool2d(x.r, g), yShape);
    const gy = pairOf(randomArray(size(yShape), 71), yShape);
    assertClose(`dx ${out}`, nb, nb.adaptiveAvgPool2dBackward(gy.n, g), reference.adaptiveAvgPool2dBackward(gy.r, g), shape);
  }
});

test('adaptive average pooling to the same size (torchvision 6x6 on 6x6) copies a blocked input', { skip }, () => {
  const shape: Shape = [2, 16, 6, 6];
  const act = blockedActivation(shape, 72);
  const g = adaptivePoolGeometry(shape, [6, 6]);
  const y = nb.adaptiveAvgPool2d(act.n, g);
  assert.equal(native!.layoutOf(y), 'blocked');
  const want = reference.adaptiveAvgPool2d(act.r, g);
  nb.dispose(act.n); // the output owns its memory
  assertClose('y', nb, y, want, shape);
});

test('log-softmax and softmax cross-entropy forward/backward', { skip }, () => {
  const n = 5;
  const c = 7;
  const x = pairOf(randomArray(n * c, 80, 4), [n, c]);
  const yn = nb.logSoftmax(x.n, n, c);
  const yr = reference.logSoftmax(x.r, n, c);
  assertClose('log_softmax', nb, yn, yr, [n, c]);
  const gy = pairOf(randomArray(n * c, 81), [n, c]);
  assertClose('log_softmax backward', nb, nb.logSoftmaxBackward(gy.n, yn, n, c), reference.logSoftmaxBackward(gy.r, yr, n, c), [n, c]);
  const labels = Int32Array.from([0, 6, 3, 3, 1]);
  const ln = nb.softmaxCrossEntropy(x.n, labels, n, c);
  const lr = reference.softmaxCrossEntropy(x.r, labels, n, c);
  assert.ok(Math.abs(ln.loss - lr.loss) <= 1e-5 * Math.abs(lr.loss), `loss ${ln.loss} vs ${lr.loss}`);
  assertClose('probs', nb, ln.probs, lr.probs, [n, c]);
  assertClose(
    'ce backward',
    nb,
    nb.softmaxCrossEntropyBackward(ln.probs, labels, n, c, 0.5),
    reference.softmaxCrossEntropyBackward(lr.probs, labels, n, c, 0.5),
    [n, c],
  );
  assert.throws(() => nb.softmaxCrossEntropy(x.n, Int32Array.from([0, 7, 0, 0, 0]), n, c), /label 7/);
});

test('dropout: mask is 0 or 1/(1-p), about p dropped, deterministic per seed, y = x·mask', { skip }, () => {
  const shape: Shape = [64, 512];
  const x = nb.fromArray(randomArray(size(shape), 90), shape);
  const p = 0.3;
  const a = nb.dropout(x, shape, p, 1234);
  const b = nb.dropout(x, shape, p, 1234);
  const c = nb.dropout(x, shape, p, 4321);
  const ma = nb.toArray(a.mask, shape);
  assert.deepEqual(ma, nb.toArray(b.mask, shape));
  assert.notDeepEqual(ma, nb.toArray(c.mask, shape));
  const keep = 1 / (1 - p);
  let dropped = 0;
  for (const v of ma) {
    assert.ok(v === 0 || Math.abs(v - keep) < 1e-6, `mask value ${v}`);
    if (v === 0) dropped++;
  }
  assert.ok(Math.abs(dropped / ma.length - p) < 0.01, `dropped fraction ${dropped / ma.length}`);
  const xs = nb.toArray(x, shape);
  const ys = nb.toArray(a.y, shape);
  for (let i = 0; i < ys.length; i++) assert.equal(ys[i], Math.fround(xs[i]! * ma[i]!));
  assert.deepEqual(nb.toArray(nb.dropout(x, shape, 0, 1).mask, shape), new Float32Array(size(shape)).fill(1));
});

test('sgdStep follows PyTorch (momentum, dampening, nesterov, weight decay) over several steps', { skip }, () => {
  const configs = [
    { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false },
    { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, nesterov: false },
    { lr: 0.01, momentum: 0.8, dampening: 0, weightDecay: 1e-3, nesterov: true },
  ];
  // 100003 elements: split over the threads in ranges that do not end on a vector's width.
  for (const n of [1000, 100_003])
    for (const p of configs) {
      const w = pairOf(randomArray(n, 100), [n]);
      const m = p.momentum ? { n: nb.full([n], 0, 'float32'), r: reference.full([n], 0, 'float32') } : null;
      for (let step = 0; step < 3; step++) {
        const g = pairOf(randomArray(n, 101 + step), [n]);
        nb.sgdStep(w.n, g.n, m?.n ?? null, n, p, step === 0);
        reference.sgdStep(w.r, g.r, m?.r ?? null, n, p, step === 0);
      }
      assertClose(`param ${n} ${JSON.stringify(p)}`, nb, w.n, w.r, [n]);
      if (m) assertClose(`momentum buffer ${n}`, nb, m.n, m.r, [n]);
    }
});

test('a weight written by sgdStep is reordered again (no stale cached layout)', { skip }, () => {
  const xs: Shape = [2, 16, 6, 6];
  const ws: Shape = [32, 16, 3, 3];
  const g = convGeometry(xs, ws, [1, 1], [1, 1], 1);
  const x = pairOf(randomArray(size(xs), 110), xs);
  const w = pairOf(randomArray(size(ws), 111, 0.2), ws);
  const yShape = [2, 32, 6, 6];
  assertClose('before', nb, nb.conv2d(x.n, w.n, null, g, false), reference.conv2d(x.r, w.r, null, g, false), yShape);
  const grad = pairOf(randomArray(size(ws), 112), ws);
  const p = { lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false };
  nb.sgdStep(w.n, grad.n, null, size(ws), p, true);
  reference.sgdStep(w.r, grad.r, null, size(ws), p, true);
  assertClose('after', nb, nb.conv2d(x.n, w.n, null, g, false), reference.conv2d(x.r, w.r, null, g, false), yShape);
  const gy = pairOf(randomArray(size(yShape), 113), yShape);
  assertClose('backward data after', nb, nb.conv2dBackwardData(gy.n, w.n, g), reference.conv2dBackwardData(gy.r, w.r, g), xs);
});

test('float64 storages run on the reference kernels', { skip }, () => {
  const xs: Shape = [1, 3, 6, 6];
  const ws: Shape = [4, 3, 3, 3];
  const g = convGeometry(xs, ws, [1, 1], [0, 0], 1);
  const xd = Float64Array.from(randomArray(size(xs), 120));
  const wd = Float64Array.from(randomArray(size(ws), 121));
  const y = nb.conv2d(nb.fromArray(xd, xs), nb.fromArray(wd, ws), null, g, true);
  assert.equal(y.dtype, 'float64');
  const want = reference.toArray(reference.conv2d(reference.fromArray(xd, xs), reference.fromArray(wd, ws), null, g, true), [1, 4, 4, 4]);
  assert.deepEqual(nb.toArray(y, [1, 4, 4, 4]), want);
  assert.throws(() => nb.binary('add', nb.fromArray(xd, xs), nb.fromArray(randomArray(size(xs), 1), xs), xs), /mix float64 and float32/);
});

test('bad input is a JS error, never a crash', { skip }, () => {
  const x = nb.fromArray(randomArray(12, 130), [3, 4]);
  assert.throws(() => nb.relu(x, [3, 5]), /holds 12 elements, expected 15/);
  assert.throws(() => nb.toArray(reference.fromArray(new Float32Array(3), [3]), [3]), /stored on the 'reference' backend/);
  const w = nb.fromArray(randomArray(10 * 4, 131), [10, 4]);
  assert.throws(() => nb.linear(x, w, null, { m: 3, k: 5, n: 10 }, false), /expected 15/);
  nb.dispose(x);
  assert.throws(() => nb.toArray(x, [3, 4]), /disposed/);
  nb.dispose(x); // twice is harmless
  assert.throws(() => nb.fromArray(new Float32Array(5), [2, 3]), /do not fill shape/);
  // A geometry whose output size does not follow from the input is refused by the addon's checks.
  const xs: Shape = [1, 4, 8, 8];
  const ws: Shape = [4, 4, 3, 3];
  const g = convGeometry(xs, ws, [1, 1], [0, 0], 1);
  const bad = { ...g, oh: g.oh + 3, ow: g.ow + 3 };
  assert.throws(
    () => nb.conv2d(nb.fromArray(randomArray(size(xs), 132), xs), nb.fromArray(randomArray(size(ws), 133), ws), null, bad, false),
    /oh\/ow do not follow from h\/w/,
  );
});

test('axpyInPlace and sgdStep take operands whose dims differ from the destination (same size)', { skip }, () => {
  const act = blockedActivation([2, 32, 3, 3], 140);
  const shape: Shape = [2, 32, 3, 3];
  const flat = pairOf(randomArray(size(shape), 141), [size(shape)]);
  nb.axpyInPlace(act.n, flat.n, 2, shape);
  reference.axpyInPlace(act.r, flat.r, 2, shape);
  assertClose('axpy into a blocked 4-D buffer from a flat one', nb, act.n, act.r, shape);
  const w = pairOf(randomArray(size(shape), 142), shape);
  const p = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: false };
  const m = { n: nb.full([size(shape)], 0, 'float32'), r: reference.full([size(shape)], 0, 'float32') };
  nb.sgdStep(w.n, flat.n, m.n, size(shape), p, true);
  reference.sgdStep(w.r, flat.r, m.r, size(shape), p, true);
  assertClose('sgd with a flat gradient and momentum buffer', nb, w.n, w.r, shape);
});
