// The integer arithmetic of an int8 network (int8_spec.ts) in plain TypeScript: the definition the
// oneDNN kernels are tested against (±1 LSB on activations: both round f32 values to nearest-even,
// but may order the f32 operations differently). Input s8 = sat(rne(fl(x · fl(1 / scale)))); a
// weight layer's int32 accumulator acc gives fl(fl(acc + bias) · scale[oc]), ReLU, then sat(rne(·))
// into u8/s8 or the f32 value itself. Activations are kept NCHW here; a linear layer reads a
// spatial activation in NHWC order, as the native engine stores it. LRN computes in f64 and
// rounds to f32 (oneDNN computes in f32: its output can differ by 1 LSB after requantization); the
// adaptive average pool's rounded integer mean is exact in both. Slow (naive loops): for tests and
// for machines without the addon.
import { adaptiveWindow } from '../backend/conv_util.js';
import type { Int8AvgPoolSpec, Int8ConvSpec, Int8LinearSpec, Int8LrnSpec, Int8MaxPoolSpec, Int8NetSpec, Int8Output } from './int8_spec.js';

/** An activation: values (integers, or f32 for the last layer) of [n, c, h, w], NCHW. */
interface Activation {
  data: Float32Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

/** Round half to even, as the CPU's default rounding mode does. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function store(v: number, out: Int8Output): number {
  if (out === 'f32') return v;
  const [lo, hi] = out === 'u8' ? [0, 255] : [-128, 127];
  return Math.min(hi, Math.max(lo, roundHalfEven(v)));
}

function quantizeInput(x: Float32Array, scale: number): Float32Array {
  const inv = Math.fround(1 / scale);
  return x.map((v) => store(Math.fround(v * inv), 's8'));
}

function finish(acc: number, l: Int8ConvSpec | Int8LinearSpec, oc: number): number {
  let v = Math.fround(Math.fround(acc + l.bias[oc]!) * l.scales[oc]!);
  if (l.relu && v < 0) v = 0;
  return store(v, l.out);
}

function conv(x: Activation, l: Int8ConvSpec): Activation {
  const { n, c, h, w } = x;
  const oh = Math.floor((h + 2 * l.padH - l.kh) / l.strideH) + 1;
  const ow = Math.floor((w + 2 * l.padW - l.kw) / l.strideW) + 1;
  const cg = c / l.groups;
  const og = l.oc / l.groups;
  const y = new Float32Array(n * l.oc * oh * ow);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < l.oc; o++) {
      const g = Math.floor(o / og);
      for (let oy = 0; oy < oh; oy++)
        for (let ox = 0; ox < ow; ox++) {
          let acc = 0;
          for (let ci = 0; ci < cg; ci++) {
            const inC = g * cg + ci;
            for (let ky = 0; ky < l.kh; ky++) {
              const iy = oy * l.strideH - l.padH + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < l.kw; kx++) {
                const ix = ox * l.strideW - l.padW + kx;
                if (ix < 0 || ix >= w) continue;
                acc += x.data[((b * c + inC) * h + iy) * w + ix]! * l.weight[((o * cg + ci) * l.kh + ky) * l.kw + kx]!;
              }
            }
          }
          y[((b * l.oc + o) * oh + oy) * ow + ox] = finish(acc, l, o);
        }
    }
  return { data: y, n, c: l.oc, h: oh, w: ow };
}

function maxPool(x: Activation, l: Int8MaxPoolSpec): Activation {
  const { n, c, h, w } = x;
  const oh = Math.floor((h - l.kh) / l.strideH) + 1;
  const ow = Math.floor((w - l.kw) / l.strideW) + 1;
  const y = new Float32Array(n * c * oh * ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++) {
        let m = -Infinity;
        for (let ky = 0; ky < l.kh; ky++)
          for (let kx = 0; kx < l.kw; kx++) m = Math.max(m, x.data[(p * h + oy * l.strideH + ky) * w + ox * l.strideW + kx]!);
        y[(p * oh + oy) * ow + ox] = m;
      }
  return { data: y, n, c, h: oh, w: ow };
}

function lrn(x: Activation, l: Int8LrnSpec): Activation {
  const { n, c, h, w } = x;
  const inner = h * w;
  const half = Math.floor(l.size / 2);
  const inv = Math.fround(1 / l.outputScale);
  const y = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let p = 0; p < inner; p++) {
        let sum = 0;
        for (let q = Math.max(0, ch - half); q < Math.min(c, ch + half + 1); q++) sum += x.data[(b * c + q) * inner + p]! ** 2;
        const i = (b * c + ch) * inner + p;
        const v = Math.fround(x.data[i]! / (l.k + (l.alpha / l.size) * sum) ** l.beta);
        y[i] = store(Math.fround(v * inv), l.out);
      }
  return { data: y, n, c, h, w };
}

/** round(sum / count), half to even, in exact integer arithmetic (sum an integer, count ≥ 1). */
function roundedMean(sum: number, count: number): number {
  const q = Math.floor(sum / count);
  const twice = 2 * (sum - q * count); // 2 · remainder, in [0, 2·count)
  return twice > count || (twice === count && q % 2 !== 0) ? q + 1 : q;
}

function avgPool(x: Activation, l: Int8AvgPoolSpec): Activation {
  const { n, c, h, w } = x;
  const y = new Float32Array(n * c * l.oh * l.ow);
  for (let p = 0; p < n * c; p++)
    for (let oy = 0; oy < l.oh; oy++) {
      const [y0, y1] = adaptiveWindow(oy, h, l.oh);
      for (let ox = 0; ox < l.ow; ox++) {
        const [x0, x1] = adaptiveWindow(ox, w, l.ow);
        let sum = 0;
        for (let iy = y0; iy < y1; iy++) for (let ix = x0; ix < x1; ix++) sum += x.data[(p * h + iy) * w + ix]!;
        y[(p * l.oh + oy) * l.ow + ox] = roundedMean(sum, (y1 - y0) * (x1 - x0));
      }
    }
  return { data: y, n, c, h: l.oh, w: l.ow };
}

function linear(x: Activation, l: Int8LinearSpec): Activation {
  const { n, c, h, w } = x;
  const k = c * h * w;
  // Row of x in NHWC order: element (ch, y, xx) sits at column (y·w + xx)·c + ch.
  const row = new Float32Array(k);
  const y = new Float32Array(n * l.oc);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) row[p * c + ch] = x.data[(b * c + ch) * h * w + p]!;
    for (let o = 0; o < l.oc; o++) {
      let acc = 0;
      for (let j = 0; j < k; j++) acc += row[j]! * l.weight[o * k + j]!;
      y[b * l.oc + o] = finish(acc, l, o);
    }
  }
  return { data: y, n, c: l.oc, h: 1, w: 1 };
}

/** Runs `spec` on n images (f32 NCHW): the last layer's output, NCHW (integers as their values). */
export function runInt8Reference(spec: Int8NetSpec, x: Float32Array, n: number): Float32Array {
  let a: Activation = { data: quantizeInput(x, spec.inputScale), n, c: spec.c, h: spec.h, w: spec.w };
  for (const l of spec.layers) {
    if (l.kind === 'conv') a = conv(a, l);
    else if (l.kind === 'maxpool') a = maxPool(a, l);
    else if (l.kind === 'avgpool') a = avgPool(a, l);
    else if (l.kind === 'lrn') a = lrn(a, l);
    else a = linear(a, l);
  }
  return a.data;
}
