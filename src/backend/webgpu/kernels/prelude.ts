// What the non-GEMM kernels share: the 1-D launch over n items as a 2-D grid of 256-invocation
// workgroups (WebGPU's default limits: 65535 groups per dimension), uniform blocks built from
// typed fields, and WGSL helpers that give PyTorch's answers on NaN and infinities. WGSL lets a
// compiler assume there are no NaNs or infinities, so the helpers test bit patterns, never
// `x != x`, and make NaN and ±inf from runtime bits (a constant NaN does not compile).
import { MAX_GROUPS_PER_DIM } from '../kernel_context.js';

/** Invocations per workgroup of every 1-D kernel here. */
export const WG = 256;

/** The grid for `n` items, one per invocation: x up to 65535 groups, then rows of them. */
export function grid(n: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const x = Math.min(groups, MAX_GROUPS_PER_DIM);
  return [x, Math.ceil(groups / x)];
}

/** A uniform field: its WGSL type and value (f32 values keep NaN and infinities bit for bit). */
export type Field = ['u32' | 'i32' | 'f32', number];

/** The bytes of a uniform block of 4-byte fields, in order. */
export function uniforms(fields: readonly Field[]): ArrayBuffer {
  const view = new DataView(new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16)));
  fields.forEach(([type, v], i) => {
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v, true);
  });
  return view.buffer;
}

/** The WGSL struct declaring `fields` under `names` (same order as `uniforms`). */
export function structOf(name: string, names: readonly string[], fields: readonly Field[]): string {
  return `struct ${name} { ${names.map((n, i) => `${n}: ${fields[i]![0]},`).join(' ')} }`;
}

/** The entry point's signature and `let i`: this invocation's item (return when past `count`). */
export function entry(count: string): string {
  return `@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WG}u;
  if (i >= ${count}) { return; }`;
}

/** NaN and infinity tests and values, and exp/log/sqrt/pow with IEEE edge cases. */
export const FLOAT_HELPERS = /* wgsl */ `
fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn is_inf(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) == 0x7f800000u; }
/** v < 0 (false for NaN and -0). */
fn below0(v: f32) -> bool { let b = bitcast<u32>(v); return b > 0x80000000u && b <= 0xff800000u; }
/** v <= 0 (false for NaN). */
fn atmost0(v: f32) -> bool { return below0(v) || (bitcast<u32>(v) & 0x7fffffffu) == 0u; }
fn nan() -> f32 { var b = 0x7fc00000u; return bitcast<f32>(b); }
fn inf() -> f32 { var b = 0x7f800000u; return bitcast<f32>(b); }
fn exp_(v: f32) -> f32 {
  if (is_nan(v)) { return v; }
  if (v > 88.72284) { return inf(); }
  if (v < -104.0) { return 0.0; }
  return exp(v);
}
fn log_(v: f32) -> f32 {
  if (is_nan(v) || below0(v)) { return nan(); }
  if ((bitcast<u32>(v) & 0x7fffffffu) == 0u) { return -inf(); }
  if (is_inf(v)) { return v; }
  return log(v);
}
fn sqrt_(v: f32) -> f32 {
  if (is_nan(v) || below0(v)) { return nan(); }
  if (is_inf(v) || v == 0.0) { return v; }
  return sqrt(v);
}
fn max_(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan(); } return select(b, a, a > b); }
fn min_(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return nan(); } return select(b, a, a < b); }
/** Math.pow's answers (x^0 = 1, NaN otherwise propagates, negative bases with integer exponents). */
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (is_nan(x) || is_nan(y)) { return nan(); }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  let a = abs(x);
  var r: f32;
  if (a == 0.0) {
    r = select(0.0, inf(), y < 0.0);
  } else if (is_inf(a)) {
    r = select(inf(), 0.0, y < 0.0);
  } else if (is_inf(y)) {
    r = select(select(0.0, inf(), a > 1.0), select(inf(), 0.0, a > 1.0), y < 0.0);
    if (a == 1.0) { r = 1.0; }
  } else {
    r = exp2(y * log2(a));
  }
  if (below0(x)) {
    if (is_inf(y)) { return r; }
    if (floor(y) != y) { return nan(); }
    if (floor(y * 0.5) * 2.0 != y) { return -r; }
  }
  return r;
}
`;
