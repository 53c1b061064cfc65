// GEMM of the reference backend against a naive triple loop: odd sizes around the blocking
// boundaries, all four transpose combinations, alpha/beta, offsets and padded leading dimensions.
import { test } from 'node:test';
import { gemm } from '../src/backend/reference/gemm.js';
import type { DType } from '../src/backend/backend.js';
import { DTYPES, assertClose, randomArray } from './reference_helpers.js';

function naiveGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: ArrayLike<number>,
  aOff: number,
  lda: number,
  b: ArrayLike<number>,
  bOff: number,
  ldb: number,
  beta: number,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        const av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        const bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        s += av! * bv!;
      }
      const at = cOff + i * ldc + j;
      c[at] = alpha * s + (beta === 0 ? 0 : beta * c[at]!);
    }
  }
}

function check(
  dtype: DType,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  beta: number,
  pad: number,
  seed: number,
): void {
  const aOff = 3,
    bOff = 5,
    cOff = 2;
  const lda = (transA ? m : k) + pad;
  const ldb = (transB ? k : n) + pad;
  const ldc = n + pad;
  const a = randomArray(aOff + (transA ? k : m) * lda, dtype, seed);
  const b = randomArray(bOff + (transB ? n : k) * ldb, dtype, seed + 1);
  const c = randomArray(cOff + m * ldc, dtype, seed + 2);
  const expected = Float64Array.from(c);
  naiveGemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, expected, cOff, ldc);
  if (dtype === 'float32') for (let i = 0; i < expected.length; i++) expected[i] = Math.fround(expected[i]!);
  gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
  const tol = dtype === 'float64' ? { atol: 1e-12, rtol: 1e-12 } : { atol: 2e-6, rtol: 1e-6 };
  assertClose(c, expected, `gemm ${dtype} tA=${transA} tB=${transB} ${m}x${n}x${k} alpha=${alpha} beta=${beta} pad=${pad}`, tol);
}

const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 33],
  [7, 1, 5],
  [7, 33, 65],
  [33, 7, 1],
  [65, 65, 7],
  [5, 130, 300],
  [130, 9, 260],
  [2, 3, 520],
];

for (const dtype of DTYPES) {
  test(`gemm matches a naive triple loop (${dtype}, every transpose, odd sizes)`, () => {
    let seed = 10;
    for (const [m, n, k] of SIZES) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          check(dtype, transA, transB, m, n, k, 1, 0, 0, seed++);
          check(dtype, transA, transB, m, n, k, -0.5, 1.5, 3, seed++);
        }
      }
    }
  });
}

test('gemm with beta = 0 ignores NaN already in C, and k = 0 only scales C', () => {
  const a = randomArray(6, 'float64', 1);
  const b = randomArray(6, 'float64', 2);
  const c = new Float64Array([NaN, NaN, NaN, NaN]);
  gemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, c, 0, 2);
  const expected = new Float64Array(4);
  naiveGemm(false, false, 2, 2, 3, 1, a, 0, 3, b, 0, 2, 0, expected, 0, 2);
  assertClose(c, expected, 'beta=0 over NaN', { atol: 1e-15, rtol: 1e-15 });
  const d = new Float64Array([1, 2, 3, 4]);
  gemm(false, false, 2, 2, 0, 1, a, 0, 3, b, 0, 2, 2, d, 0, 2);
  assertClose(d, [2, 4, 6, 8], 'k=0 scales C by beta', { atol: 0, rtol: 0 });
});

test('gemm over a window of C leaves the elements outside it untouched', () => {
  const a = randomArray(3 * 4, 'float32', 3);
  const b = randomArray(4 * 5, 'float32', 4);
  const c = new Float32Array(3 * 8).fill(7);
  gemm(false, false, 3, 5, 4, 1, a, 0, 4, b, 0, 5, 0, c, 0, 8);
  for (let i = 0; i < 3; i++) for (let j = 5; j < 8; j++) if (c[i * 8 + j] !== 7) throw new Error(`C[${i}, ${j}] was overwritten`);
});
