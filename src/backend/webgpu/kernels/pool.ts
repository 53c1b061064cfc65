// Max pooling with argmax (flat index within each [h, w] plane) and adaptive average pooling over
// x [n, c, h, w], forward one invocation per output element, backward one per input element
// gathering from the windows that hold it (no atomics on floats in WGSL). Max pooling: padding
// acts as -inf, the first maximum in scan order wins and a window holding NaN gives NaN (the last
// NaN's index), as the reference backend. Adaptive windows are PyTorch's [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉).
import type { KernelContext } from '../kernel_context.js';
import { FLOAT_HELPERS, entry, grid, uniforms, type Field } from './prelude.js';

interface Pool {
  n: number;
  c: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
}

const POOL_STRUCT = 'struct U { count: u32, h: i32, w: i32, kh: i32, kw: i32, oh: i32, ow: i32, sh: i32, sw: i32, ph: i32, pw: i32 }';
const poolFields = (count: number, g: Pool): Field[] => [
  ['u32', count],
  ...([g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW].map((v) => ['i32', v]) as Field[]),
];

/** y and argmax [n, c, oh, ow]. */
export function maxPool(ctx: KernelContext, [x, y, argmax]: GPUBuffer[], g: Pool): void {
  const code = `${FLOAT_HELPERS}
${POOL_STRUCT}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax: array<i32>;
@group(0) @binding(3) var<uniform> u: U;
${entry('u.count')}
  let plane = i / u32(u.oh * u.ow);
  let o = i32(i % u32(u.oh * u.ow));
  let oy = o / u.ow;
  let ox = o % u.ow;
  let y0 = max(oy * u.sh - u.ph, 0);
  let y1 = min(oy * u.sh - u.ph + u.kh, u.h);
  let x0 = max(ox * u.sw - u.pw, 0);
  let x1 = min(ox * u.sw - u.pw + u.kw, u.w);
  let base = plane * u32(u.h * u.w);
  var best = -inf();
  var at = y0 * u.w + x0;
  for (var iy = y0; iy < y1; iy++) {
    for (var ix = x0; ix < x1; ix++) {
      let v = x[base + u32(iy * u.w + ix)];
      if (v > best || is_nan(v)) { best = v; at = iy * u.w + ix; }
    }
  }
  y[i] = best;
  argmax[i] = at;
}`;
  const count = g.n * g.c * g.oh * g.ow;
  ctx.dispatch(ctx.pipeline('max_pool', code), [x!, y!, argmax!], uniforms(poolFields(count, g)), grid(count));
}

/** gx [n, c, h, w]: the sum of gy over the windows whose argmax is this element. */
export function maxPoolBackward(ctx: KernelContext, [gy, argmax, gx]: GPUBuffer[], g: Pool): void {
  const code = `${POOL_STRUCT}
@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read> argmax: array<i32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
/** The first output index whose window (start o·s − p, length k) reaches position v. */
fn first_window(v: i32, k: i32, s: i32, p: i32) -> i32 {
  let num = v + p - k + 1;
  return select(0, (num + s - 1) / s, num > 0);
}
${entry('u.count')}
  let plane = i / u32(u.h * u.w);
  let at = i32(i % u32(u.h * u.w));
  let iy = at / u.w;
  let ix = at % u.w;
  let base = plane * u32(u.oh * u.ow);
  var s = 0.0;
  for (var oy = first_window(iy, u.kh, u.sh, u.ph); oy <= min((iy + u.ph) / u.sh, u.oh - 1); oy++) {
    for (var ox = first_window(ix, u.kw, u.sw, u.pw); ox <= min((ix + u.pw) / u.sw, u.ow - 1); ox++) {
      let o = base + u32(oy * u.ow + ox);
      if (argmax[o] == at) { s += gy[o]; }
    }
  }
  gx[i] = s;
}`;
  const count = g.n * g.c * g.h * g.w;
  ctx.dispatch(ctx.pipeline('max_pool_backward', code), [gy!, argmax!, gx!], uniforms(poolFields(count, g)), grid(count));
}

interface Adaptive {
  n: number;
  c: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
}

const ADAPTIVE_PRELUDE = `struct U { count: u32, h: u32, w: u32, oh: u32, ow: u32 }
fn win_start(i: u32, size: u32, out: u32) -> u32 { return (i * size) / out; }
fn win_end(i: u32, size: u32, out: u32) -> u32 { return ((i + 1u) * size + out - 1u) / out; }`;
const adaptiveFields = (count: number, g: Adaptive): Field[] => [
  ['u32', count],
  ['u32', g.h],
  ['u32', g.w],
  ['u32', g.oh],
  ['u32', g.ow],
];

export function adaptiveAvgPool(ctx: KernelContext, [x, y]: GPUBuffer[], g: Adaptive): void {
  const code = `${ADAPTIVE_PRELUDE}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
${entry('u.count')}
  let plane = i / (u.oh * u.ow);
  let oy = (i / u.ow) % u.oh;
  let ox = i % u.ow;
  let y0 = win_start(oy, u.h, u.oh);
  let y1 = win_end(oy, u.h, u.oh);
  let x0 = win_start(ox, u.w, u.ow);
  let x1 = win_end(ox, u.w, u.ow);
  let base = plane * u.h * u.w;
  var s = 0.0;
  for (var iy = y0; iy < y1; iy++) {
    for (var ix = x0; ix < x1; ix++) { s += x[base + iy * u.w + ix]; }
  }
  y[i] = s / f32((y1 - y0) * (x1 - x0));
}`;
  const count = g.n * g.c * g.oh * g.ow;
  ctx.dispatch(ctx.pipeline('adaptive_avg_pool', code), [x!, y!], uniforms(adaptiveFields(count, g)), grid(count));
}

/** gx [n, c, h, w]: each gy spread evenly over its window, gathered per input element. */
export function adaptiveAvgPoolBackward(ctx: KernelContext, [gy, gx]: GPUBuffer[], g: Adaptive): void {
  const code = `${ADAPTIVE_PRELUDE}
@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read_write> gx: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
${entry('u.count')}
  let plane = i / (u.h * u.w);
  let iy = (i / u.w) % u.h;
  let ix = i % u.w;
  // The windows holding iy are among [⌊iy·OH/H⌋, ⌊((iy+1)·OH − 1)/H⌋]; each is checked.
  let oy0 = (iy * u.oh) / u.h;
  let oy1 = min(((iy + 1u) * u.oh - 1u) / u.h, u.oh - 1u);
  let ox0 = (ix * u.ow) / u.w;
  let ox1 = min(((ix + 1u) * u.ow - 1u) / u.w, u.ow - 1u);
  var s = 0.0;
  for (var oy = oy0; oy <= oy1; oy++) {
    let y0 = win_start(oy, u.h, u.oh);
    let y1 = win_end(oy, u.h, u.oh);
    if (iy < y0 || iy >= y1) { continue; }
    for (var ox = ox0; ox <= ox1; ox++) {
      let x0 = win_start(ox, u.w, u.ow);
      let x1 = win_end(ox, u.w, u.ow);
      if (ix < x0 || ix >= x1) { continue; }
      s += gy[(plane * u.oh + oy) * u.ow + ox] / f32((y1 - y0) * (x1 - x0));
    }
  }
  gx[i] = s;
}`;
  const count = g.n * g.c * g.h * g.w;
  ctx.dispatch(ctx.pipeline('adaptive_avg_pool_backward', code), [gy!, gx!], uniforms(adaptiveFields(count, g)), grid(count));
}
