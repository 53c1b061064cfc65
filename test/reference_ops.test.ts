// Memory, elementwise, reduction, loss, dropout and SGD kernels of the reference backend against
// direct formulas written here (and PyTorch 1.13's SGD trajectories), in float64 and float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BinaryOp, ScalarOp, UnaryOp } from '../src/backend/backend.js';
import { DataError } from '../src/errors.js';
import { DTYPES, assertClose, backend, randomArray, read, size, store, tolerance } from './reference_helpers.js';

test('fromArray/toArray/full/clone/reshape copy and keep dtype', () => {
  for (const dtype of DTYPES) {
    const data = randomArray(12, dtype, 1);
    const s = store(data, [3, 4]);
    assert.equal(s.backend, 'reference');
    assert.equal(s.dtype, dtype);
    assert.equal(s.size, 12);
    data[0] = 42; // fromArray copied
    const out = read(s, [3, 4]);
    assert.notEqual(out[0], 42);
    out[1] = 43; // toArray copied
    assert.notEqual(read(s, [3, 4])[1], 43);
    const c = backend.clone(s, [3, 4]);
    assert.deepEqual(Array.from(read(c, [3, 4])), Array.from(read(s, [3, 4])));
    const r = backend.reshape(s, [3, 4], [2, 6]);
    assert.deepEqual(Array.from(read(r, [2, 6])), Array.from(read(s, [3, 4])));
    assert.throws(() => backend.reshape(s, [3, 4], [5, 2]), /cannot view \[3, 4\] as \[5, 2\]/);
    const f = backend.full([2, 2], 1.5, dtype);
    assert.equal(f.dtype, dtype);
    assert.deepEqual(Array.from(read(f, [2, 2])), [1.5, 1.5, 1.5, 1.5]);
    assert.deepEqual(Array.from(read(backend.full([], 3, dtype), [])), [3]);
  }
  assert.throws(() => backend.fromArray(new Float32Array(5), [2, 3]), /5 values do not fill shape \[2, 3\]/);
});

test('unary, binary and scalar ops match Math (NaN and signed zero as in PyTorch)', () => {
  const unary: Record<UnaryOp, (v: number) => number> = {
    neg: (v) => -v,
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    abs: Math.abs,
    relu: (v) => (Number.isNaN(v) ? v : Math.max(v, 0)),
    sign: (v) => (v > 0 ? 1 : v < 0 ? -1 : 0),
  };
  const binary: Record<BinaryOp, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    max: Math.max,
    min: Math.min,
  };
  const scalar: Record<ScalarOp, (a: number, v: number) => number> = {
    add: (a, v) => a + v,
    mul: (a, v) => a * v,
    pow: Math.pow,
    max: Math.max,
    min: Math.min,
    rsub: (a, v) => v - a,
    rdiv: (a, v) => v / a,
  };
  for (const dtype of DTYPES) {
    const base = randomArray(20, dtype, 7, 3);
    base[3] = 0;
    base[4] = NaN;
    base[5] = -0;
    const other = randomArray(20, dtype, 8, 3);
    other[6] = NaN;
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    const shape = [4, 5];
    for (const op of Object.keys(unary) as UnaryOp[]) {
      const expected = Array.from(base, (v) => round(unary[op](v)));
      assertClose(read(backend.unary(op, store(base, shape), shape), shape), expected, `unary ${op} ${dtype}`, tolerance(dtype));
    }
    for (const op of Object.keys(binary) as BinaryOp[]) {
      const expected = Array.from(base, (v, i) => round(binary[op](v, other[i]!)));
      assertClose(
        read(backend.binary(op, store(base, shape), store(other, shape), shape), shape),
        expected,
        `binary ${op} ${dtype}`,
        tolerance(dtype),
      );
    }
    for (const op of Object.keys(scalar) as ScalarOp[]) {
      for (const v of [2, 0.5, -1.5]) {
        const expected = Array.from(base, (a) => round(scalar[op](a, v)));
        assertClose(
          read(backend.scalar(op, store(base, shape), v, shape), shape),
          expected,
          `scalar ${op} ${v} ${dtype}`,
          tolerance(dtype),
        );
      }
    }
    const r = read(backend.relu(store(base, shape), shape), shape);
    assert.ok(Number.isNaN(r[4]), 'relu keeps NaN');
    assert.equal(r[0], Math.max(base[0]!, 0));
    const gy = randomArray(20, dtype, 9);
    const y = read(backend.relu(store(base, shape), shape), shape);
    const gx = read(backend.reluBackward(store(gy, shape), store(y, shape), shape), shape);
    assertClose(
      gx,
      Array.from(gy, (g, i) => (y[i]! <= 0 ? 0 : g)), // a NaN output passes its gradient, as in PyTorch
      `reluBackward ${dtype}`,
      { atol: 0, rtol: 0 },
    );
  }
});

test('axpyInPlace and addBias', () => {
  for (const dtype of DTYPES) {
    const dst = randomArray(24, dtype, 1);
    const src = randomArray(24, dtype, 2);
    const expected = Array.from(dst, (d, i) => d + -0.25 * src[i]!);
    const ds = store(dst, [24]);
    backend.axpyInPlace(ds, store(src, [24]), -0.25, [24]);
    assertClose(read(ds, [24]), expected, `axpy ${dtype}`, tolerance(dtype));
    const shape = [2, 3, 2, 2];
    const x = randomArray(24, dtype, 3);
    const b = randomArray(3, dtype, 4);
    const y = read(backend.addBias(store(x, shape), store(b, [3]), shape), shape);
    assertClose(
      y,
      Array.from(x, (v, i) => v + b[Math.floor(i / 4) % 3]!),
      `addBias ${dtype}`,
      tolerance(dtype),
    );
    const y2 = read(backend.addBias(store(x.subarray(0, 6), [2, 3]), store(b, [3]), [2, 3]), [2, 3]);
    assertClose(
      y2,
      Array.from(x.subarray(0, 6), (v, i) => v + b[i % 3]!),
      `addBias 2-D ${dtype}`,
      tolerance(dtype),
    );
  }
});

test('sum over each axis and over everything', () => {
  for (const dtype of DTYPES) {
    const shape = [2, 3, 4];
    const x = randomArray(24, dtype, 5);
    const at = (i: number, j: number, k: number): number => x[(i * 3 + j) * 4 + k]!;
    const all = read(backend.sum(store(x, shape), shape, null), []);
    assertClose(all, [Array.from(x).reduce((a, b) => a + b, 0)], `sum all ${dtype}`, tolerance(dtype));
    const s0: number[] = [],
      s1: number[] = [],
      s2: number[] = [];
    for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) s0.push(at(0, j, k) + at(1, j, k));
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) s1.push(at(i, 0, k) + at(i, 1, k) + at(i, 2, k));
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) s2.push(at(i, j, 0) + at(i, j, 1) + at(i, j, 2) + at(i, j, 3));
    assertClose(read(backend.sum(store(x, shape), shape, 0), [3, 4]), s0, `sum axis 0 ${dtype}`, tolerance(dtype));
    assertClose(read(backend.sum(store(x, shape), shape, 1), [2, 4]), s1, `sum axis 1 ${dtype}`, tolerance(dtype));
    assertClose(read(backend.sum(store(x, shape), shape, 2), [2, 3]), s2, `sum axis 2 ${dtype}`, tolerance(dtype));
    assert.throws(() => backend.sum(store(x, shape), shape, 3), /axis 3 is out of range/);
  }
});

test('logSoftmax, its backward and softmax cross-entropy follow the formulas, stably', () => {
  for (const dtype of DTYPES) {
    const n = 3,
      c = 5;
    const x = randomArray(n * c, dtype, 11, 4);
    x[0] = 1000; // large logits must not overflow
    const expected = new Float64Array(n * c);
    for (let r = 0; r < n; r++) {
      const row = Array.from(x.subarray(r * c, r * c + c));
      const m = Math.max(...row);
      const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
      for (let j = 0; j < c; j++) expected[r * c + j] = row[j]! - lse;
    }
    const y = backend.logSoftmax(store(x, [n, c]), n, c);
    assertClose(read(y, [n, c]), expected, `logSoftmax ${dtype}`, tolerance(dtype));
    const gy = randomArray(n * c, dtype, 12);
    const gxExpected = new Float64Array(n * c);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += gy[r * c + j]!;
      for (let j = 0; j < c; j++) gxExpected[r * c + j] = gy[r * c + j]! - Math.exp(expected[r * c + j]!) * s;
    }
    assertClose(
      read(backend.logSoftmaxBackward(store(gy, [n, c]), y, n, c), [n, c]),
      gxExpected,
      `logSoftmaxBackward ${dtype}`,
      tolerance(dtype),
    );

    const labels = new Int32Array([0, 4, 2]);
    const { loss, probs } = backend.softmaxCrossEntropy(store(x, [n, c]), labels, n, c);
    const lossExpected = -(expected[0]! + expected[c + 4]! + expected[2 * c + 2]!) / n;
    assertClose([loss], [lossExpected], `cross-entropy loss ${dtype}`, tolerance(dtype));
    const probsExpected = expected.map(Math.exp);
    assertClose(read(probs, [n, c]), probsExpected, `cross-entropy probs ${dtype}`, tolerance(dtype));
    const scale = 0.5;
    const g = read(backend.softmaxCrossEntropyBackward(probs, labels, n, c, scale), [n, c]);
    const gExpected = probsExpected.map((p, i) => ((p - (labels[Math.floor(i / c)] === i % c ? 1 : 0)) * scale) / n);
    assertClose(g, gExpected, `cross-entropy backward ${dtype}`, tolerance(dtype));
  }
});

test('cross-entropy names an out-of-range label and the class count', () => {
  const logits = store(new Float32Array(6), [2, 3]);
  assert.throws(
    () => backend.softmaxCrossEntropy(logits, new Int32Array([0, 3]), 2, 3),
    (e: unknown) => e instanceof DataError && /label 3 .*batch index 1.* 3 classes/.test(e.message),
  );
  assert.throws(() => backend.softmaxCrossEntropy(logits, new Int32Array([-1, 0]), 2, 3), /label -1/);
  assert.throws(() => backend.softmaxCrossEntropyBackward(logits, new Int32Array([7, 0]), 2, 3, 1), /label 7/);
});

test('dropout masks are 0 or 1/(1-p), deterministic per seed, and p = 0 / p = 1 are exact', () => {
  for (const dtype of DTYPES) {
    const shape = [100, 100];
    const x = randomArray(size(shape), dtype, 13);
    const a = backend.dropout(store(x, shape), shape, 0.5, 1234);
    const b = backend.dropout(store(x, shape), shape, 0.5, 1234);
    const c = backend.dropout(store(x, shape), shape, 0.5, 99);
    const ma = read(a.mask, shape),
      mb = read(b.mask, shape),
      mc = read(c.mask, shape);
    assert.deepEqual(Array.from(ma), Array.from(mb));
    assert.notDeepEqual(Array.from(ma), Array.from(mc));
    let kept = 0;
    for (const v of ma) {
      assert.ok(v === 0 || v === 2, `mask value ${v}`);
      if (v !== 0) kept++;
    }
    assert.ok(Math.abs(kept / ma.length - 0.5) < 0.03, `kept fraction ${kept / ma.length}`);
    assertClose(
      read(a.y, shape),
      Array.from(x, (v, i) => v * ma[i]!),
      `dropout y ${dtype}`,
      tolerance(dtype),
    );
    const drop3 = backend.dropout(store(x, shape), shape, 0.3, 5);
    const p3 = read(drop3.mask, shape);
    const keep3 = dtype === 'float32' ? Math.fround(1 / 0.7) : 1 / 0.7;
    for (const v of p3) assert.ok(v === 0 || v === keep3, `mask value ${v}`);
    // y is exactly x · mask in the tensor's dtype, so that backward (gy · mask) is consistent.
    const round = dtype === 'float32' ? Math.fround : (v: number) => v;
    assertClose(
      read(drop3.y, shape),
      Array.from(x, (v, i) => round(v * p3[i]!)),
      `dropout p=0.3 y ${dtype}`,
      { atol: 0, rtol: 0 },
    );
    const none = backend.dropout(store(x, shape), shape, 0, 5);
    assert.ok(read(none.mask, shape).every((v) => v === 1));
    assert.deepEqual(Array.from(read(none.y, shape)), Array.from(x));
    const all = backend.dropout(store(x, shape), shape, 1, 5);
    assert.ok(read(all.mask, shape).every((v) => v === 0));
    assert.ok(read(all.y, shape).every((v) => v === 0));
  }
  assert.throws(() => backend.dropout(store(new Float32Array(2), [2]), [2], 1.5, 0), /probability must be in \[0, 1\]/);
});

test('SGD follows PyTorch 1.13 trajectories (momentum, nesterov, dampening, weight decay)', () => {
  // torch.optim.SGD([p], lr=0.1, ...) for 3 steps in float64 and float32 from p = [1, -2, 0.5], grads [0.3(s+1), -0.2, 0.7 − 0.5s].
  const cases = [
    {
      momentum: 0.9,
      dampening: 0,
      weightDecay: 0.01,
      nesterov: false,
      torch64: [0.709268769, -1.8766855779999998, 0.29978332950000003],
      torch32: [0.7092688083648682, -1.876685619354248, 0.2997833490371704],
    },
    {
      momentum: 0.9,
      dampening: 0,
      weightDecay: 0.01,
      nesterov: true,
      torch64: [0.555720235371, -1.823227825102, 0.2588450304405],
      torch32: [0.5557202100753784, -1.8232277631759644, 0.2588450610637665],
    },
    {
      momentum: 0.5,
      dampening: 0.3,
      weightDecay: 0,
      nesterov: false,
      torch64: [0.8214999999999999, -1.93, 0.3775],
      torch32: [0.8215000033378601, -1.9299999475479126, 0.3775000274181366],
    },
    {
      momentum: 0,
      dampening: 0,
      weightDecay: 0.1,
      nesterov: false,
      torch64: [0.791496, -1.8811959999999999, 0.4267425],
      torch32: [0.7914959788322449, -1.8811960220336914, 0.4267425239086151],
    },
  ];
  for (const dtype of DTYPES) {
    for (const { torch64, torch32, ...cs } of cases) {
      const make = dtype === 'float64' ? (v: number[]) => Float64Array.from(v) : (v: number[]) => Float32Array.from(v);
      const param = store(make([1, -2, 0.5]), [3]);
      const buf = cs.momentum === 0 ? null : backend.full([3], 0, dtype);
      for (let s = 0; s < 3; s++) {
        const grad = store(make([0.3 * (s + 1), -0.2, 0.7 - s * 0.5]), [3]);
        backend.sgdStep(param, grad, buf, 3, { lr: 0.1, ...cs }, s === 0);
      }
      // float32 steps reproduce torch's float32 rounding exactly; float64 agrees to the last bits.
      const expected = dtype === 'float64' ? torch64 : torch32;
      const tol = dtype === 'float64' ? { atol: 1e-15, rtol: 1e-14 } : { atol: 0, rtol: 0 };
      assertClose(read(param, [3]), expected, `sgd ${dtype} ${JSON.stringify(cs)}`, tol);
    }
  }
});
