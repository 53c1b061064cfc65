// Inverted dropout with the native and wasm backends' counter-based mask, so that a seed gives
// the same mask on all three: element i is kept when
//   u = (mix(mix(seed) ^ i) >> 11) · 2⁻⁵³ ≥ p        (mix: splitmix64's finaliser)
// WGSL has no 64-bit integers, so mix runs on (lo, hi) pairs of u32, and the test u ≥ p becomes
// an exact integer comparison of the 53-bit draw with ⌈p · 2⁵³⌉ (computed on the client).
// y = x · mask even where dropped, as PyTorch (NaN · 0 and ±inf · 0 are NaN).
import type { KernelContext } from '../kernel_context.js';
import { entry, grid, uniforms } from './prelude.js';

const M64 = (1n << 64n) - 1n;

/** splitmix64's finaliser (the client computes mix(seed) with it; the kernel, the rest). */
export function mix64(z: bigint): bigint {
  z = (z + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

const CODE = /* wgsl */ `
struct U { n: u32, base_lo: u32, base_hi: u32, t_lo: u32, t_hi: u32, keep: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<uniform> u: U;

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn shr64(a: vec2<u32>, k: u32) -> vec2<u32> { return vec2<u32>((a.x >> k) | (a.y << (32u - k)), a.y >> k); }
/** The low 64 bits of a · b. */
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let a0 = a.x & 0xffffu; let a1 = a.x >> 16u;
  let b0 = b.x & 0xffffu; let b1 = b.x >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let lo = (p00 & 0xffffu) | (mid << 16u);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2<u32>(lo, hi + a.x * b.y + a.y * b.x);
}
fn mix(z0: vec2<u32>) -> vec2<u32> {
  var z = add64(z0, vec2<u32>(0x7f4a7c15u, 0x9e3779b9u));
  z = mul64(z ^ shr64(z, 30u), vec2<u32>(0x1ce4e5b9u, 0xbf58476du));
  z = mul64(z ^ shr64(z, 27u), vec2<u32>(0x133111ebu, 0x94d049bbu));
  return z ^ shr64(z, 31u);
}
${entry('u.n')}
  let r = mix(vec2<u32>(u.base_lo ^ i, u.base_hi));
  let hi = r.y >> 11u;
  let lo = (r.x >> 11u) | (r.y << 21u);
  let kept = hi > u.t_hi || (hi == u.t_hi && lo >= u.t_lo);
  let m = select(0.0, u.keep, kept);
  mask[i] = m;
  y[i] = x[i] * m;
}`;

export function dropout(ctx: KernelContext, [x, y, mask]: GPUBuffer[], p: { n: number; p: number; seed: number }): void {
  const base = mix64(BigInt(p.seed));
  // u ≥ p ⇔ draw ≥ p · 2⁵³ ⇔ draw ≥ ⌈p · 2⁵³⌉ (p · 2⁵³ is exact in a double).
  const threshold = BigInt(Math.ceil(p.p * 2 ** 53));
  const keep = p.p >= 1 ? 0 : 1 / (1 - p.p);
  ctx.dispatch(
    ctx.pipeline('dropout', CODE),
    [x!, y!, mask!],
    uniforms([
      ['u32', p.n],
      ['u32', Number(base & 0xffffffffn)],
      ['u32', Number(base >> 32n)],
      ['u32', Number(threshold & 0xffffffffn)],
      ['u32', Number(threshold >> 32n)],
      ['f32', keep],
    ]),
    grid(p.n),
  );
}
