// Test helpers: closeness with atol + rtol·|ref| (reporting the max difference and the first
// values), relative error as max|diff| / max|ref|, and a float64 finite-difference gradient check.
import assert from 'node:assert/strict';
import type { Backend, FloatArray } from '../src/backend/backend.js';
import { mul, sum } from '../src/ops/index.js';
import { Tensor } from '../src/tensor.js';

type Numbers = ArrayLike<number>;

export function assertClose(actual: Numbers, expected: Numbers, opts: { atol?: number; rtol?: number; name?: string } = {}): void {
  const { atol = 1e-5, rtol = 1e-4, name = 'values' } = opts;
  assert.equal(actual.length, expected.length, `${name}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstDiff = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= atol + rtol * Math.abs(expected[i]!)) && (worst < 0 || d > worstDiff)) {
      worst = i;
      worstDiff = d;
    }
  }
  if (worst >= 0) {
    const head = (a: Numbers) =>
      Array.from(a)
        .slice(0, 5)
        .map((v) => v.toPrecision(6))
        .join(', ');
    assert.fail(
      `${name}: max |diff| ${worstDiff.toExponential(3)} at ${worst} (${actual[worst]} vs ${expected[worst]}); first actual [${head(actual)}], expected [${head(expected)}]`,
    );
  }
}

/** max|a − b| / max|b|. */
export function relError(actual: Numbers, expected: Numbers): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

export function assertRelClose(actual: Numbers, expected: Numbers, tol: number, name: string): void {
  assert.equal(actual.length, expected.length, `${name}: length ${actual.length} != ${expected.length}`);
  const e = relError(actual, expected);
  assert.ok(
    e <= tol,
    `${name}: relative error ${e.toExponential(3)} > ${tol}; first actual [${Array.from(actual).slice(0, 4).join(', ')}], expected [${Array.from(expected).slice(0, 4).join(', ')}]`,
  );
}

/** Random float64 values from a seeded LCG (deterministic tests without the library RNG). */
export function randomArray(n: number, seed: number, scale = 1): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/**
 * Checks the analytic gradients of fn at the given float64 inputs against central finite
 * differences of L = sum(fn(inputs) · gy), with gy fixed random weights.
 */
export function gradcheck(
  name: string,
  fn: (...xs: Tensor[]) => Tensor,
  inputs: { data: FloatArray; shape: number[] }[],
  backend: Backend,
  opts: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  const { eps = 1e-6, atol = 1e-6, rtol = 1e-4 } = opts;
  const leaves = inputs.map((i) => Tensor.fromArray(Float64Array.from(i.data), i.shape, { backend, requiresGrad: true }));
  const out = fn(...leaves);
  const gy = Tensor.fromArray(randomArray(out.size, 99), out.shape, { backend });
  sum(mul(out, gy)).backward();
  const gyv = gy.toArray();
  const loss = (vals: Float64Array[]): number => {
    const ts = inputs.map((input, k) => Tensor.fromArray(vals[k]!, input.shape, { backend }));
    const o = fn(...ts).toArray();
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i]! * gyv[i]!;
    return s;
  };
  leaves.forEach((leaf, k) => {
    const analytic = leaf.grad!.toArray();
    const base = inputs.map((i) => Float64Array.from(i.data));
    const varied = base[k]!; // the input whose gradient is checked
    const numeric = new Float64Array(analytic.length);
    for (let i = 0; i < analytic.length; i++) {
      const orig = varied[i]!;
      varied[i] = orig + eps;
      const up = loss(base);
      varied[i] = orig - eps;
      const down = loss(base);
      varied[i] = orig;
      numeric[i] = (up - down) / (2 * eps);
    }
    assertClose(analytic, numeric, { atol, rtol, name: `${name}: gradient of input ${k}` });
  });
}
