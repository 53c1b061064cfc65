// Local response normalisation across channels with PyTorch's semantics, x [n, c, s] (s = the
// product of the spatial dims), one invocation per element, as the reference backend's lrn.ts:
//   scale_c = k + alpha/size · Σ_{c' = c − ⌊size/2⌋}^{c + ⌊(size−1)/2⌋} x_{c'}²   (zero outside [0, c))
//   y_c = x_c · scale_c^(−beta)
//   gx_i = gy_i · scale_i^(−beta) − (2·alpha·beta/size) · x_i · Σ_j gy_j · y_j / scale_j,
//          j ∈ [i − ⌊(size−1)/2⌋, i + ⌊size/2⌋]
import type { KernelContext } from '../kernel_context.js';
import { FLOAT_HELPERS, entry, grid, uniforms, type Field } from './prelude.js';

interface Lrn {
  n: number;
  c: number;
  s: number;
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

const STRUCT = 'struct U { count: u32, c: i32, s: u32, before: i32, after: i32, factor: f32, beta: f32, k: f32 }';
const fields = (count: number, p: Lrn, backward: boolean): Field[] => [
  ['u32', count],
  ['i32', p.c],
  ['u32', p.s],
  // Backward sums over the windows that hold the channel: the window's two halves swap.
  ['i32', backward ? Math.floor((p.size - 1) / 2) : Math.floor(p.size / 2)],
  ['i32', backward ? Math.floor(p.size / 2) : Math.floor((p.size - 1) / 2)],
  ['f32', backward ? (2 * p.alpha * p.beta) / p.size : p.alpha / p.size],
  ['f32', p.beta],
  ['f32', p.k],
];

/** scale^(−beta) with Math.pow's answers at 0, +inf and NaN. */
const POW_NEG_BETA = `fn pow_neg_beta(scale: f32, beta: f32) -> f32 {
  if (is_nan(scale)) { return scale; }
  if (is_inf(scale)) { return 0.0; }
  if (scale == 0.0) { return inf(); }
  return exp2(-beta * log2(scale));
}`;

/** y and the scale [n, c, s]. */
export function lrn(ctx: KernelContext, [x, y, scale]: GPUBuffer[], p: Lrn): void {
  const code = `${FLOAT_HELPERS}
${POW_NEG_BETA}
${STRUCT}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
${entry('u.count')}
  let ch = i32((i / u.s) % u32(u.c));
  let base = i - u32(ch) * u.s;
  var sum = 0.0;
  for (var cc = max(0, ch - u.before); cc <= min(u.c - 1, ch + u.after); cc++) {
    let v = x[base + u32(cc) * u.s];
    sum += v * v;
  }
  let sc = u.k + u.factor * sum;
  scale[i] = sc;
  y[i] = x[i] * pow_neg_beta(sc, u.beta);
}`;
  const count = p.n * p.c * p.s;
  ctx.dispatch(ctx.pipeline('lrn', code), [x!, y!, scale!], uniforms(fields(count, p, false)), grid(count));
}

/** gx [n, c, s] from gy, x, y and the forward scale. */
export function lrnBackward(ctx: KernelContext, [gy, x, y, scale, gx]: GPUBuffer[], p: Lrn): void {
  const code = `${FLOAT_HELPERS}
${POW_NEG_BETA}
${STRUCT}
@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> gx: array<f32>;
@group(0) @binding(5) var<uniform> u: U;
${entry('u.count')}
  let ch = i32((i / u.s) % u32(u.c));
  let base = i - u32(ch) * u.s;
  var sum = 0.0;
  for (var cc = max(0, ch - u.before); cc <= min(u.c - 1, ch + u.after); cc++) {
    let j = base + u32(cc) * u.s;
    sum += gy[j] * y[j] / scale[j];
  }
  gx[i] = gy[i] * pow_neg_beta(scale[i], u.beta) - u.factor * x[i] * sum;
}`;
  const count = p.n * p.c * p.s;
  ctx.dispatch(ctx.pipeline('lrn_backward', code), [gy!, x!, y!, scale!, gx!], uniforms(fields(count, p, true)), grid(count));
}
