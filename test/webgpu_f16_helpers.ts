// binary16 in TypeScript for the f16 tests: the nearest f16 of a number (round to nearest even,
// ±inf from 65520 up) and its bits, computed with float64 arithmetic, independently of the WGSL
// kernel's integer algorithm (src/backend/webgpu/kernels/f16.ts) that the tests hold to it.

/** floor(log2(a)) for a > 0, exactly (Math.log2 may be off by one next to a power of two). */
function exponent(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return e;
}

/** The value of the f16 nearest to `v` (ties to even), ±Infinity past the largest finite f16, NaN for NaN. */
export function f16Round(v: number): number {
  if (Number.isNaN(v) || !Number.isFinite(v) || v === 0) return v;
  const sign = v < 0 ? -1 : 1;
  const a = Math.abs(v);
  if (a >= 65520) return sign * Infinity;
  const e = exponent(a);
  // Spacing of f16 values around a: 2^(e-10) for normals, 2^-24 below 2^-14 (subnormals).
  const ulp = a < 2 ** -14 ? 2 ** -24 : 2 ** (e - 10);
  const q = a / ulp; // exact: a is an f32 value and ulp a power of two
  const f = Math.floor(q);
  const d = q - f;
  const r = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  return sign * r * ulp;
}

/** The binary16 bits of f16Round(v) (NaN: the quiet NaN 0x7e00 with v's sign unknown, so 0x7e00). */
export function f16Bits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const r = f16Round(v);
  const sign = r < 0 || Object.is(r, -0) ? 0x8000 : 0;
  const a = Math.abs(r);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | (a / 2 ** -24);
  const e = exponent(a);
  return sign | ((e + 15) << 10) | (a / 2 ** (e - 10) - 1024);
}

/** Every element of `a` rounded to its nearest f16 (kept in float32: every f16 is an f32). */
export function f16RoundAll(a: ArrayLike<number>): Float32Array<ArrayBuffer> {
  return Float32Array.from(a, f16Round);
}
