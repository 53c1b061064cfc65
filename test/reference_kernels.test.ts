// Convolution, pooling, LRN and linear kernels of the reference backend against direct naive
// loops written here (and a few values computed with PyTorch 1.13), in float64 and float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConvGeometry, DType, FloatArray, LrnParams, PoolGeometry, Shape } from '../src/backend/backend.js';
import { adaptivePoolGeometry, convGeometry, poolGeometry } from '../src/backend/conv_util.js';
import { DTYPES, assertClose, backend, randomArray, read, size, store, tolerance } from './reference_helpers.js';
import { ShapeError } from '../src/errors.js';

// ---- convolution ------------------------------------------------------------------------------

/** Direct 7-loop convolution: y[n, o, oy, ox] = b[o] + Σ_{ci, ky, kx} x · w, within o's group. */
function naiveConv(x: FloatArray, w: FloatArray, b: FloatArray | null, g: ConvGeometry, relu: boolean): Float64Array {
  const icg = g.c / g.groups,
    ocg = g.oc / g.groups;
  const y = new Float64Array(g.n * g.oc * g.oh * g.ow);
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.oc; o++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          let s = b ? b[o]! : 0;
          const group = Math.floor(o / ocg);
          for (let ci = 0; ci < icg; ci++)
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const iy = oy * g.strideH - g.padH + ky,
                  ix = ox * g.strideW - g.padW + kx;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const c = group * icg + ci;
                s += x[((n * g.c + c) * g.h + iy) * g.w + ix]! * w[((o * icg + ci) * g.kh + ky) * g.kw + kx]!;
              }
          y[((n * g.oc + o) * g.oh + oy) * g.ow + ox] = relu ? Math.max(s, 0) : s;
        }
  return y;
}

/** Direct backward: gx and gw by scattering every (output, tap) product; gb = Σ gy. */
function naiveConvBackward(
  gy: FloatArray,
  x: FloatArray,
  w: FloatArray,
  g: ConvGeometry,
): { gx: Float64Array; gw: Float64Array; gb: Float64Array } {
  const icg = g.c / g.groups,
    ocg = g.oc / g.groups;
  const gx = new Float64Array(x.length),
    gw = new Float64Array(w.length),
    gb = new Float64Array(g.oc);
  for (let n = 0; n < g.n; n++)
    for (let o = 0; o < g.oc; o++)
      for (let oy = 0; oy < g.oh; oy++)
        for (let ox = 0; ox < g.ow; ox++) {
          const gv = gy[((n * g.oc + o) * g.oh + oy) * g.ow + ox]!;
          gb[o]! += gv;
          const group = Math.floor(o / ocg);
          for (let ci = 0; ci < icg; ci++)
            for (let ky = 0; ky < g.kh; ky++)
              for (let kx = 0; kx < g.kw; kx++) {
                const iy = oy * g.strideH - g.padH + ky,
                  ix = ox * g.strideW - g.padW + kx;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                const xi = ((n * g.c + group * icg + ci) * g.h + iy) * g.w + ix;
                const wi = ((o * icg + ci) * g.kh + ky) * g.kw + kx;
                gx[xi]! += gv * w[wi]!;
                gw[wi]! += gv * x[xi]!;
              }
        }
  return { gx, gw, gb };
}

interface ConvCase {
  x: number[];
  w: number[];
  stride: [number, number];
  pad: [number, number];
  groups: number;
}
const CONV_CASES: ConvCase[] = [
  { x: [2, 3, 9, 8], w: [4, 3, 3, 3], stride: [1, 1], pad: [1, 1], groups: 1 },
  { x: [1, 4, 11, 13], w: [6, 2, 5, 3], stride: [2, 3], pad: [2, 1], groups: 2 },
  { x: [2, 6, 7, 7], w: [9, 2, 3, 3], stride: [2, 2], pad: [0, 0], groups: 3 },
  { x: [1, 3, 23, 23], w: [5, 3, 11, 11], stride: [4, 4], pad: [2, 2], groups: 1 },
  { x: [2, 4, 5, 6], w: [8, 4, 1, 1], stride: [1, 1], pad: [0, 0], groups: 1 },
  { x: [2, 4, 3, 3], w: [6, 2, 1, 1], stride: [1, 1], pad: [0, 0], groups: 2 },
  { x: [1, 4, 5, 6], w: [4, 1, 1, 1], stride: [2, 2], pad: [1, 0], groups: 4 },
  { x: [1, 2, 4, 4], w: [3, 2, 4, 4], stride: [1, 1], pad: [3, 3], groups: 1 },
];

for (const dtype of DTYPES) {
  test(`conv2d forward with bias and ReLU matches the direct loop (${dtype})`, () => {
    let seed = 100;
    for (const cc of CONV_CASES) {
      const g = convGeometry(cc.x, cc.w, cc.stride, cc.pad, cc.groups);
      const x = randomArray(size(cc.x), dtype, seed++);
      const w = randomArray(size(cc.w), dtype, seed++);
      const b = randomArray(cc.w[0]!, dtype, seed++);
      const label = `conv x=[${cc.x}] w=[${cc.w}] stride=${cc.stride} pad=${cc.pad} groups=${cc.groups}`;
      for (const relu of [false, true]) {
        const y = read(backend.conv2d(store(x, cc.x), store(w, cc.w), store(b, [cc.w[0]!]), g, relu), [g.n, g.oc, g.oh, g.ow]);
        assertClose(y, naiveConv(x, w, b, g, relu), `${label} relu=${relu}`, tolerance(dtype));
      }
      const yNoBias = read(backend.conv2d(store(x, cc.x), store(w, cc.w), null, g, false), [g.n, g.oc, g.oh, g.ow]);
      assertClose(yNoBias, naiveConv(x, w, null, g, false), `${label} without bias`, tolerance(dtype));
    }
  });

  test(`conv2d backward data, weights and bias match the direct loop (${dtype})`, () => {
    let seed = 200;
    for (const cc of CONV_CASES) {
      const g = convGeometry(cc.x, cc.w, cc.stride, cc.pad, cc.groups);
      const yShape = [g.n, g.oc, g.oh, g.ow];
      const x = randomArray(size(cc.x), dtype, seed++);
      const w = randomArray(size(cc.w), dtype, seed++);
      const gy = randomArray(size(yShape), dtype, seed++);
      const expected = naiveConvBackward(gy, x, w, g);
      const label = `conv x=[${cc.x}] w=[${cc.w}] stride=${cc.stride} pad=${cc.pad} groups=${cc.groups}`;
      const gx = read(backend.conv2dBackwardData(store(gy, yShape), store(w, cc.w), g), cc.x);
      assertClose(gx, expected.gx, `${label} gx`, tolerance(dtype));
      const { gw, gb } = backend.conv2dBackwardWeights(store(gy, yShape), store(x, cc.x), g, true);
      assertClose(read(gw, cc.w), expected.gw, `${label} gw`, tolerance(dtype));
      assert.ok(gb !== null);
      assertClose(read(gb, [g.oc]), expected.gb, `${label} gb`, tolerance(dtype));
      assert.equal(backend.conv2dBackwardWeights(store(gy, yShape), store(x, cc.x), g, false).gb, null);
    }
  });
}

test('conv2d rejects a storage of the wrong size and mixed dtypes with clear errors', () => {
  const g = convGeometry([1, 2, 4, 4], [3, 2, 3, 3], [1, 1], [0, 0], 1);
  const w = store(randomArray(54, 'float32', 1), [3, 2, 3, 3]);
  assert.throws(
    () => backend.conv2d(store(randomArray(31, 'float32', 2), [31]), w, null, g, false),
    /conv2d input holds 31 elements, expected 32/,
  );
  assert.throws(() => backend.conv2d(store(randomArray(32, 'float64', 2), [32]), w, null, g, false), /mix float32 and float64/);
  const foreign = { backend: 'native', dtype: 'float32' as const, size: 32 };
  assert.throws(() => backend.conv2d(foreign, w, null, g, false), /stored on the 'native' backend/);
});

// ---- max pooling ------------------------------------------------------------------------------

/** Direct max pooling over the padded input (padding is −inf, ceil mode's extra rows too). */
function naiveMaxPool(x: FloatArray, g: PoolGeometry): { y: Float64Array; arg: Int32Array } {
  const y = new Float64Array(g.n * g.c * g.oh * g.ow);
  const arg = new Int32Array(y.length);
  for (let p = 0; p < g.n * g.c; p++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++) {
        let best = -Infinity,
          at = -1;
        for (let ky = 0; ky < g.kh; ky++)
          for (let kx = 0; kx < g.kw; kx++) {
            const iy = oy * g.strideH - g.padH + ky,
              ix = ox * g.strideW - g.padW + kx;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            const v = x[p * g.h * g.w + iy * g.w + ix]!;
            if (at < 0 || v > best) {
              best = v;
              at = iy * g.w + ix;
            }
          }
        y[p * g.oh * g.ow + oy * g.ow + ox] = best;
        arg[p * g.oh * g.ow + oy * g.ow + ox] = at;
      }
  return { y, arg };
}

interface PoolCase {
  x: number[];
  k: [number, number];
  s: [number, number];
  p: [number, number];
  ceil: boolean;
}
const POOL_CASES: PoolCase[] = [
  { x: [2, 3, 13, 13], k: [3, 3], s: [2, 2], p: [0, 0], ceil: false },
  { x: [1, 2, 8, 8], k: [3, 3], s: [2, 2], p: [0, 0], ceil: true },
  { x: [1, 2, 7, 6], k: [3, 2], s: [2, 2], p: [1, 1], ceil: true },
  { x: [2, 1, 5, 5], k: [2, 2], s: [2, 2], p: [0, 0], ceil: true },
  { x: [1, 2, 9, 10], k: [3, 3], s: [3, 2], p: [1, 1], ceil: false },
  { x: [1, 1, 4, 4], k: [2, 2], s: [1, 1], p: [1, 1], ceil: false },
];

for (const dtype of DTYPES) {
  test(`max pooling forward and backward match the direct loop, ceil mode included (${dtype})`, () => {
    let seed = 300;
    for (const pc of POOL_CASES) {
      const g = poolGeometry(pc.x, pc.k, pc.s, pc.p, pc.ceil);
      const yShape = [g.n, g.c, g.oh, g.ow];
      const x = randomArray(size(pc.x), dtype, seed++);
      const gy = randomArray(size(yShape), dtype, seed++);
      const label = `max_pool x=[${pc.x}] k=${pc.k} s=${pc.s} p=${pc.p} ceil=${pc.ceil}`;
      const expected = naiveMaxPool(x, g);
      const { y, workspace } = backend.maxPool2d(store(x, pc.x), g, true);
      assertClose(read(y, yShape), expected.y, `${label} y`, { atol: 0, rtol: 0 });
      const gxExpected = new Float64Array(x.length);
      for (let i = 0; i < gy.length; i++) {
        const plane = Math.floor(i / (g.oh * g.ow));
        gxExpected[plane * g.h * g.w + expected.arg[i]!]! += gy[i]!;
      }
      if (dtype === 'float32') for (let i = 0; i < gxExpected.length; i++) gxExpected[i] = Math.fround(gxExpected[i]!);
      const gxSaved = read(backend.maxPool2dBackward(store(gy, yShape), store(x, pc.x), workspace, g), pc.x);
      assertClose(gxSaved, gxExpected, `${label} gx (saved indices)`, tolerance(dtype));
      const gxRecomputed = read(backend.maxPool2dBackward(store(gy, yShape), store(x, pc.x), null, g), pc.x);
      assertClose(gxRecomputed, gxExpected, `${label} gx (recomputed indices)`, tolerance(dtype));
      assert.equal(backend.maxPool2d(store(x, pc.x), g, false).workspace, null);
    }
  });
}

test('max pooling matches PyTorch in ceil mode with padding, and propagates NaN', () => {
  // torch.nn.functional.max_pool2d(x, 3, 2, 1, ceil_mode=True), x = 3·sin(0.7·i) on [1, 2, 6, 7].
  const shape = [1, 2, 6, 7];
  const x = Float64Array.from({ length: 84 }, (_, i) => Math.sin(i * 0.7) * 3);
  const g = poolGeometry(shape, [3, 3], [2, 2], [1, 1], true);
  assert.deepEqual([g.oh, g.ow], [4, 4]);
  const y = read(backend.maxPool2d(store(x, shape), g, false).y, [1, 2, 4, 4]);
  const torchY = [
    1.932653061713073, 2.9563491899653807, 2.9645047016310007, 2.5637967242648445, 2.537240493428803, 1.9709597961563672,
    2.9645047016310007, 2.971822067084611, 2.97829921750772, 2.9839343216335132, 2.9839343216335132, 0.8127173649236071,
    0.20162421757642476, 2.9839343216335132, 2.9839343216335132, 0.8127173649236071, 0.7640469985321052, 0.2519233670752299,
    2.988725786264591, 2.988725786264591, 2.992672256723414, 2.9957726172353114, 2.3938563501679053, 2.1539237783149323, 2.1887302121785606,
    2.9957726172353114, 2.998025991243931, 2.9994317416590754, -1.4196137911366944, -1.5646530062607356, 2.2564769732234233,
    2.9994317416590754,
  ];
  assertClose(y, torchY, 'max_pool2d vs torch', { atol: 1e-15, rtol: 0 });
  // A window holding NaN yields NaN; the gradient goes to the (last) NaN, as PyTorch's index says.
  const nanX = new Float64Array([NaN, 1, NaN, 3]);
  const ng = poolGeometry([1, 1, 2, 2], [2, 2], [2, 2], [0, 0], false);
  const { y: ny, workspace } = backend.maxPool2d(store(nanX, [1, 1, 2, 2]), ng, true);
  assert.ok(Number.isNaN(read(ny, [1, 1, 1, 1])[0]));
  const ngx = read(
    backend.maxPool2dBackward(store(new Float64Array([1]), [1, 1, 1, 1]), store(nanX, [1, 1, 2, 2]), workspace, ng),
    [1, 1, 2, 2],
  );
  assert.deepEqual(Array.from(ngx), [0, 0, 1, 0]);
});

// ---- adaptive average pooling ---------------------------------------------------------------------

function naiveAdaptive(x: FloatArray, n: number, c: number, h: number, w: number, oh: number, ow: number): Float64Array {
  const y = new Float64Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        const y0 = Math.floor((oy * h) / oh),
          y1 = Math.ceil(((oy + 1) * h) / oh);
        const x0 = Math.floor((ox * w) / ow),
          x1 = Math.ceil(((ox + 1) * w) / ow);
        let s = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) s += x[p * h * w + iy * w + ix]!;
        y[p * oh * ow + oy * ow + ox] = s / ((y1 - y0) * (x1 - x0));
      }
  return y;
}

for (const dtype of DTYPES) {
  test(`adaptive average pooling and its backward match the direct loop (${dtype})`, () => {
    let seed = 400;
    for (const [h, w, oh, ow] of [
      [13, 13, 6, 6],
      [5, 7, 3, 4],
      [6, 6, 6, 6],
      [4, 3, 7, 5],
      [1, 1, 6, 6],
    ] as [number, number, number, number][]) {
      const xShape: Shape = [2, 3, h, w];
      const g = adaptivePoolGeometry(xShape, [oh, ow]);
      const x = randomArray(size(xShape), dtype, seed++);
      const label = `adaptive_avg_pool ${h}x${w} -> ${oh}x${ow}`;
      const y = read(backend.adaptiveAvgPool2d(store(x, xShape), g), [2, 3, oh, ow]);
      assertClose(y, naiveAdaptive(x, 2, 3, h, w, oh, ow), label, tolerance(dtype));
      // Backward is the transpose of the (linear) forward: <gy, A x> = <Aᵀ gy, x> for every x.
      const gy = randomArray(2 * 3 * oh * ow, dtype, seed++);
      const gx = read(backend.adaptiveAvgPool2dBackward(store(gy, [2, 3, oh, ow]), g), xShape);
      for (let probe = 0; probe < 3; probe++) {
        const v = randomArray(x.length, 'float64', seed++);
        const av = naiveAdaptive(v, 2, 3, h, w, oh, ow);
        let lhs = 0,
          rhs = 0;
        for (let i = 0; i < av.length; i++) lhs += gy[i]! * av[i]!;
        for (let i = 0; i < v.length; i++) rhs += gx[i]! * v[i]!;
        assertClose([rhs], [lhs], `${label} backward (adjoint identity)`, tolerance(dtype));
      }
    }
  });
}

test('adaptive average pooling matches PyTorch on 5x7 -> 3x4', () => {
  const x = Float64Array.from({ length: 35 }, (_, i) => Math.sin(i * 0.3));
  const g = adaptivePoolGeometry([1, 1, 5, 7], [3, 4]);
  const torchY = [
    0.45854818846534107, 0.4812421097547844, 0.37561914213675524, 0.210264003750856, 0.00298698685317784, 0.0031225168629897856,
    0.002422260459878441, 0.0013409188240503338, 0.4614808505420478, 0.4805318550969555, 0.3704671557512098, 0.2027556437127069,
  ];
  assertClose(read(backend.adaptiveAvgPool2d(store(x, [1, 1, 5, 7]), g), [1, 1, 3, 4]), torchY, 'adaptive vs torch', {
    atol: 1e-15,
    rtol: 1e-14,
  });
});

// ---- local response normalisation -------------------------------------------------------------------

/** Direct LRN: the window of channel c is [c − ⌊size/2⌋, c + ⌊(size−1)/2⌋], zeros outside. */
function naiveLrn(x: ArrayLike<number>, shape: number[], p: LrnParams): Float64Array {
  const [n = 0, c = 0] = shape;
  const s = size(shape.slice(2));
  const y = new Float64Array(x.length);
  for (let img = 0; img < n; img++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < s; i++) {
        let sum = 0;
        for (let cc = ch - Math.floor(p.size / 2); cc <= ch + Math.floor((p.size - 1) / 2); cc++) {
          if (cc < 0 || cc >= c) continue;
          const v = x[(img * c + cc) * s + i]!;
          sum += v * v;
        }
        const at = (img * c + ch) * s + i;
        y[at] = x[at]! / Math.pow(p.k + (p.alpha / p.size) * sum, p.beta);
      }
  return y;
}

const LRN_CASES: { shape: number[]; p: LrnParams }[] = [
  { shape: [2, 7, 3, 4], p: { size: 5, alpha: 5e-4, beta: 0.75, k: 2 } },
  { shape: [1, 6, 2, 3], p: { size: 4, alpha: 0.3, beta: 0.75, k: 1.5 } },
  { shape: [2, 3, 5], p: { size: 2, alpha: 0.5, beta: 0.6, k: 1 } },
  { shape: [1, 4, 2, 2], p: { size: 7, alpha: 1.2, beta: 1.3, k: 0.8 } },
  { shape: [1, 5, 1, 3], p: { size: 1, alpha: 0.4, beta: 0.5, k: 1 } },
];

for (const dtype of DTYPES) {
  test(`LRN forward matches the direct loop, odd and even sizes, edges (${dtype})`, () => {
    let seed = 500;
    for (const lc of LRN_CASES) {
      const x = randomArray(size(lc.shape), dtype, seed++, 2);
      const { y } = backend.lrn(store(x, lc.shape), lc.shape, lc.p, false);
      assertClose(read(y, lc.shape), naiveLrn(x, lc.shape, lc.p), `lrn [${lc.shape}] size=${lc.p.size}`, tolerance(dtype));
    }
  });
}

test('LRN backward equals central finite differences of the direct forward (float64)', () => {
  let seed = 600;
  for (const lc of LRN_CASES) {
    const x = randomArray(size(lc.shape), 'float64', seed++, 2);
    const gy = randomArray(x.length, 'float64', seed++);
    const { y, workspace } = backend.lrn(store(x, lc.shape), lc.shape, lc.p, true);
    const gx = read(backend.lrnBackward(store(gy, lc.shape), store(x, lc.shape), y, workspace, lc.shape, lc.p), lc.shape);
    const gxNoWs = read(backend.lrnBackward(store(gy, lc.shape), store(x, lc.shape), y, null, lc.shape, lc.p), lc.shape);
    assertClose(gxNoWs, gx, `lrn [${lc.shape}] backward without workspace`, { atol: 1e-14, rtol: 1e-12 });
    const numeric = new Float64Array(x.length);
    const eps = 1e-6;
    for (let i = 0; i < x.length; i++) {
      const plus = Float64Array.from(x),
        minus = Float64Array.from(x);
      plus[i]! += eps;
      minus[i]! -= eps;
      const yp = naiveLrn(plus, lc.shape, lc.p),
        ym = naiveLrn(minus, lc.shape, lc.p);
      let d = 0;
      for (let j = 0; j < x.length; j++) d += gy[j]! * (yp[j]! - ym[j]!);
      numeric[i] = d / (2 * eps);
    }
    assertClose(gx, numeric, `lrn [${lc.shape}] size=${lc.p.size} backward`, { atol: 1e-7, rtol: 1e-6 });
  }
});

test('LRN matches PyTorch for an even size (4) and an odd size (3), forward and backward', () => {
  const shape = [1, 6, 1, 2];
  const x = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i * 0.9) * 2);
  const gy = Float64Array.from({ length: 12 }, (_, i) => Math.cos(i * 0.4));
  const torch: Record<number, { y: number[]; gx: number[] }> = {
    4: {
      y: [
        0.0, 1.0345977034264042, 1.2312064173022967, 0.5034281525793962, -0.5218688112590227, -1.1514363459918855, -0.8522738311416255,
        0.01911480883955941, 0.9517621018859687, 1.099507920983449, 0.5055140147821399, -0.5780182801386498,
      ],
      gx: [
        0.6476793844854478, 0.45410517312117604, 0.2745215617700735, 0.13012906113485953, 0.010332285392537569, -0.2768489374838103,
        -0.4693732663500917, -0.5350579314550409, -0.5327907241688185, -0.4265268555128374, -0.34037590481401575, -0.23183461049696025,
      ],
    },
    3: {
      y: [
        0.0, 1.0004323634837495, 1.1768320659419857, 0.47306335474773686, -0.49052133275901816, -1.1823153854830903, -0.8958426263517705,
        0.018252275246051296, 0.9235566364120003, 1.1709540760513582, 0.5260371590386791, -0.5524098679519728,
      ],
      gx: [
        0.6230084785665898, 0.45078924673035836, 0.29669885495067366, 0.09332979617066688, 0.0826655455629601, -0.1572641155918429,
        -0.45571553850958885, -0.5099417835718261, -0.5052364308595738, -0.4084440548516277, -0.3384356698290032, -0.24717345860306342,
      ],
    },
  };
  for (const sizeParam of [4, 3]) {
    const p = { size: sizeParam, alpha: 0.3, beta: 0.75, k: 1.5 };
    const { y, workspace } = backend.lrn(store(x, shape), shape, p, true);
    assertClose(read(y, shape), torch[sizeParam]!.y, `lrn size ${sizeParam} vs torch`, { atol: 1e-14, rtol: 1e-13 });
    const gx = read(backend.lrnBackward(store(gy, shape), store(x, shape), y, workspace, shape, p), shape);
    assertClose(gx, torch[sizeParam]!.gx, `lrn size ${sizeParam} backward vs torch`, { atol: 1e-14, rtol: 1e-13 });
  }
});

// ---- linear ----------------------------------------------------------------------------------------

for (const dtype of DTYPES) {
  test(`linear forward (bias, ReLU) and backward match direct loops (${dtype})`, () => {
    let seed = 700;
    for (const [m, k, n] of [
      [1, 9, 5],
      [1, 300, 67],
      [3, 7, 2],
      [17, 33, 65],
      [64, 20, 10],
    ] as [number, number, number][]) {
      const x = randomArray(m * k, dtype, seed++);
      const w = randomArray(n * k, dtype, seed++);
      const b = randomArray(n, dtype, seed++);
      const gy = randomArray(m * n, dtype, seed++);
      const g = { m, k, n };
      const label = `linear m=${m} k=${k} n=${n}`;
      const expected = new Float64Array(m * n);
      for (let r = 0; r < m; r++)
        for (let j = 0; j < n; j++) {
          let s = b[j]!;
          for (let p = 0; p < k; p++) s += x[r * k + p]! * w[j * k + p]!;
          expected[r * n + j] = s;
        }
      assertClose(
        read(backend.linear(store(x, [m, k]), store(w, [n, k]), store(b, [n]), g, false), [m, n]),
        expected,
        label,
        tolerance(dtype),
      );
      const relu = expected.map((v) => Math.max(v, 0));
      assertClose(
        read(backend.linear(store(x, [m, k]), store(w, [n, k]), store(b, [n]), g, true), [m, n]),
        relu,
        `${label} relu`,
        tolerance(dtype),
      );
      const gxExpected = new Float64Array(m * k),
        gwExpected = new Float64Array(n * k),
        gbExpected = new Float64Array(n);
      for (let r = 0; r < m; r++)
        for (let j = 0; j < n; j++) {
          const gv = gy[r * n + j]!;
          gbExpected[j]! += gv;
          for (let p = 0; p < k; p++) {
            gxExpected[r * k + p]! += gv * w[j * k + p]!;
            gwExpected[j * k + p]! += gv * x[r * k + p]!;
          }
        }
      assertClose(
        read(backend.linearBackwardData(store(gy, [m, n]), store(w, [n, k]), g), [m, k]),
        gxExpected,
        `${label} gx`,
        tolerance(dtype),
      );
      const { gw, gb } = backend.linearBackwardWeights(store(gy, [m, n]), store(x, [m, k]), g, true);
      assertClose(read(gw, [n, k]), gwExpected, `${label} gw`, tolerance(dtype));
      assert.ok(gb !== null);
      assertClose(read(gb, [n]), gbExpected, `${label} gb`, tolerance(dtype));
    }
  });
}

test('kernels keep the dtype of their inputs', () => {
  for (const dtype of DTYPES satisfies readonly DType[]) {
    const x = store(randomArray(2 * 3 * 4 * 4, dtype, 1), [2, 3, 4, 4]);
    const w = store(randomArray(2 * 3 * 3 * 3, dtype, 2), [2, 3, 3, 3]);
    const g = convGeometry([2, 3, 4, 4], [2, 3, 3, 3], [1, 1], [1, 1], 1);
    assert.equal(backend.conv2d(x, w, null, g, true).dtype, dtype);
    assert.equal(backend.maxPool2d(x, poolGeometry([2, 3, 4, 4], [2, 2], [2, 2], [0, 0], false), false).y.dtype, dtype);
    assert.equal(backend.lrn(x, [2, 3, 4, 4], { size: 3, alpha: 1e-4, beta: 0.75, k: 1 }, false).y.dtype, dtype);
  }
});

test('shapes that do not fit an op are ShapeErrors (a user error, exit 1), naming the shapes', () => {
  assert.throws(
    () => convGeometry([1, 3, 4, 4], [8, 3, 11, 11], [4, 4], [0, 0], 1),
    (e) => e instanceof ShapeError && /4x4/.test(e.message),
  );
  assert.throws(() => convGeometry([1, 3, 8, 8], [8, 2, 3, 3], [1, 1], [0, 0], 1), ShapeError);
  assert.throws(() => poolGeometry([1, 3, 2, 2], [3, 3], [2, 2], [0, 0], false), ShapeError);
  assert.throws(() => adaptivePoolGeometry([3, 2, 2], [1, 1]), ShapeError);
  assert.throws(() => backend.reshape(store(randomArray(6, 'float32', 1), [6]), [6], [4]), ShapeError);
  assert.throws(() => backend.sum(store(randomArray(6, 'float32', 1), [6]), [6], 1), ShapeError);
});
