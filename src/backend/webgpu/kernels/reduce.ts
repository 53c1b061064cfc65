// Sum reductions: over everything (one workgroup: each invocation sums a strided share, then a
// tree in workgroup memory) or over the middle axis of x [outer, len, inner] (one invocation per
// output element, summing in order).
import type { KernelContext } from '../kernel_context.js';
import { WG, entry, grid, uniforms } from './prelude.js';

/** y [1] = Σ x. */
export function sumAll(ctx: KernelContext, [x, y]: GPUBuffer[], p: { n: number }): void {
  const code = `struct U { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
var<workgroup> part: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  for (var i = t; i < u.n; i += ${WG}u) { s += x[i]; }
  part[t] = s;
  workgroupBarrier();
  for (var half = ${WG / 2}u; half > 0u; half >>= 1u) {
    if (t < half) { part[t] += part[t + half]; }
    workgroupBarrier();
  }
  if (t == 0u) { y[0] = part[0]; }
}`;
  ctx.dispatch(ctx.pipeline('sum_all', code), [x!, y!], uniforms([['u32', p.n]]), [1]);
}

/** y [outer, inner] = Σ over the middle axis of x [outer, len, inner]. */
export function sumAxis(ctx: KernelContext, [x, y]: GPUBuffer[], p: { outer: number; len: number; inner: number }): void {
  const code = `struct U { n: u32, len: u32, inner: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
${entry('u.n')}
  let o = i / u.inner;
  let at = o * u.len * u.inner + i % u.inner;
  var s = 0.0;
  for (var l = 0u; l < u.len; l++) { s += x[at + l * u.inner]; }
  y[i] = s;
}`;
  const n = p.outer * p.inner;
  ctx.dispatch(
    ctx.pipeline('sum_axis', code),
    [x!, y!],
    uniforms([
      ['u32', n],
      ['u32', p.len],
      ['u32', p.inner],
    ]),
    grid(n),
  );
}
