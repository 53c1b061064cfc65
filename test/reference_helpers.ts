// Shared helpers for the reference backend's kernel tests: seeded random arrays of either
// dtype, element counts, and a closeness assertion that reports the worst element.
import assert from 'node:assert/strict';
import type { DType, FloatArray, Shape, Storage } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { Generator } from '../src/random.js';

export const backend = new ReferenceBackend();
export const DTYPES: readonly DType[] = ['float64', 'float32'];

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Uniform values in [-scale, scale) of the given dtype, from a fixed seed. */
export function randomArray(n: number, dtype: DType, seed: number, scale = 1): FloatArray {
  const gen = new Generator(seed);
  const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (gen.uniform() * 2 - 1) * scale;
  return a;
}

export function store(data: FloatArray, shape: Shape): Storage {
  return backend.fromArray(data, shape);
}

export function read(s: Storage, shape: Shape): FloatArray {
  return backend.toArray(s, shape);
}

/** Default tolerances: tight for float64, float32 rounding otherwise. */
export function tolerance(dtype: DType): { atol: number; rtol: number } {
  return dtype === 'float64' ? { atol: 1e-11, rtol: 1e-11 } : { atol: 1e-5, rtol: 1e-5 };
}

/** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere (NaN must match NaN). */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tol: { atol: number; rtol: number },
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      assert.ok(Number.isNaN(a) && Number.isNaN(e), `${what}: element ${i} is ${a}, expected ${e}`);
      continue;
    }
    if (a === e) continue;
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (excess > worstExcess || Number.isNaN(excess)) {
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(|diff| ${Math.abs(actual[worst]! - expected[worst]!)}); first values ${Array.from(actual).slice(0, 4).join(', ')} ` +
        `vs ${Array.from(expected).slice(0, 4).join(', ')}`,
    );
  }
}
