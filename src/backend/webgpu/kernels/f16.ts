// f16 weights for the matrix kernels (precision 'f16': weights stored as binary16, arithmetic and
// activations in f32). Two things live here:
//   - `packF16`: the kernel that makes a weight's f16 copy on the GPU, two halves per u32 word
//     (element 2i in the low 16 bits, as unpack2x16float and an array<f16> both read them), rounded
//     to nearest even with integer arithmetic, so the result is exact and the same on every GPU
//     (WGSL leaves f32→f16 rounding and pack2x16float's out-of-range results to the implementation);
//   - the weight loads the kernel generators splice in: one binding declaration and two load
//     functions (`wload(i)`: element i; `wload4(i)`: elements 4i…4i+3) per weight format. 'f32' reads
//     array<f32>; 'f16' is native (`enable f16;`, array<f16>: only on a device created with the
//     `shader-f16` feature); 'f16-packed' reads the same bytes as array<u32> through unpack2x16float
//     (core WGSL: every adapter, SwiftShader included). Everything else in a kernel's source is the
//     same for the two f16 variants, so the packed one's tests cover the kernels' logic.
import type { KernelContext } from '../kernel_context.js';
import { entry, grid } from './prelude.js';

export type WeightFormat = 'f32' | 'f16' | 'f16-packed';

/** What a generator splices in for a weight buffer in one format. */
export interface WeightLoads {
  /** Directives that must open the module ('' or `enable f16;`). */
  readonly directives: string;
  /** The read-only storage binding `name` at `binding`, read element by element (scalar) or four at a time (vec4). */
  binding(binding: number, name: string, shape: 'scalar' | 'vec4'): string;
  /** `fn wload(i: i32) -> f32` and `fn wload4(i: i32) -> vec4<f32>` over the binding `name` (declared with the same shape). */
  functions(name: string, shape: 'scalar' | 'vec4'): string;
}

const READ = 'var<storage, read>';

export const WEIGHT_LOADS: Record<WeightFormat, WeightLoads> = {
  f32: {
    directives: '',
    binding: (b, name, shape) => `@group(0) @binding(${b}) ${READ} ${name}: array<${shape === 'vec4' ? 'vec4<f32>' : 'f32'}>;`,
    functions: (name, shape) =>
      shape === 'vec4' ? `fn wload4(i: i32) -> vec4<f32> { return ${name}[i]; }` : `fn wload(i: i32) -> f32 { return ${name}[i]; }`,
  },
  f16: {
    directives: 'enable f16;',
    binding: (b, name, shape) => `@group(0) @binding(${b}) ${READ} ${name}: array<${shape === 'vec4' ? 'vec4<f16>' : 'f16'}>;`,
    functions: (name, shape) =>
      shape === 'vec4'
        ? `fn wload4(i: i32) -> vec4<f32> { return vec4<f32>(${name}[i]); }`
        : `fn wload(i: i32) -> f32 { return f32(${name}[i]); }`,
  },
  'f16-packed': {
    directives: '',
    // Four halves are two u32 words (8 bytes, the stride of vec4<f16>).
    binding: (b, name, shape) => `@group(0) @binding(${b}) ${READ} ${name}: array<${shape === 'vec4' ? 'vec2<u32>' : 'u32'}>;`,
    functions: (name, shape) =>
      shape === 'vec4'
        ? `fn wload4(i: i32) -> vec4<f32> { let p = ${name}[i]; return vec4<f32>(unpack2x16float(p.x), unpack2x16float(p.y)); }`
        : `fn wload(i: i32) -> f32 { return unpack2x16float(${name}[i >> 1u])[i & 1]; }`,
  },
};

/** Bytes of the f16 copy of `n` weights (whole u32 words: the packed variant reads words). */
export function f16Bytes(n: number): number {
  return Math.ceil(n / 2) * 4;
}

/**
 * WGSL: the binary16 bits of an f32, rounded to nearest even; overflow (from 65520 up) gives ±inf,
 * NaN stays NaN (quiet, with its top payload bits), f32 subnormals and values below half the
 * smallest f16 subnormal give ±0.
 */
export const F32_TO_F16_WGSL = /* wgsl */ `
fn f32_to_f16(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let sign = (b >> 16u) & 0x8000u;
  let e = (b >> 23u) & 0xffu;
  let m = b & 0x7fffffu;
  if (e == 0xffu) { return sign | 0x7c00u | select(0u, 0x200u | (m >> 13u), m != 0u); }
  if (e >= 143u) { return sign | 0x7c00u; }
  if (e >= 113u) {
    // Normal: rebias the exponent (127 → 15); a carry out of the mantissa bumps the exponent (to inf at the top).
    let h = ((e - 112u) << 10u) | (m >> 13u);
    let rest = m & 0x1fffu;
    return sign | (h + select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)));
  }
  if (e < 102u) { return sign; }
  // Subnormal: the 24-bit significand shifted to units of 2^-24 (a carry gives the smallest normal).
  let s = m | 0x800000u;
  let shift = 126u - e;
  let h = s >> shift;
  let rest = s & ((1u << shift) - 1u);
  let halfway = 1u << (shift - 1u);
  return sign | (h + select(0u, 1u, rest > halfway || (rest == halfway && (h & 1u) == 1u)));
}`;

const PACK_F16 = `
struct Params { n: u32, words: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;
@group(0) @binding(2) var<uniform> u: Params;
${F32_TO_F16_WGSL}
${entry('u.words')}
  let lo = f32_to_f16(x[2u * i]);
  var hi = 0u;
  if (2u * i + 1u < u.n) { hi = f32_to_f16(x[2u * i + 1u]); }
  y[i] = lo | (hi << 16u);
}`;

/** y (f16Bytes(n) bytes) = the f16 copy of x [n]. */
export function packF16(ctx: KernelContext, [x, y]: GPUBuffer[], p: { n: number }): void {
  const words = Math.ceil(p.n / 2);
  ctx.dispatch(ctx.pipeline('f16.pack', PACK_F16), [x!, y!], new Uint32Array([p.n, words, 0, 0]).buffer, grid(words));
}
