// Fully connected layer through GEMM: x [m, k], w [n, k] (PyTorch's layout), b [n], y [m, n].
//   forward          y = x · wᵀ + b, ReLU fused when asked
//   backward data    gx [m, k] = gy [m, n] · w [n, k]
//   backward weights gw [n, k] = gyᵀ · x,  gb [n] = Σ_rows gy
import type { FloatArray, LinearGeometry } from '../backend.js';
import { gemm } from './gemm.js';
import { allocLike } from './storage.js';

export function linearForward(x: FloatArray, w: FloatArray, b: FloatArray | null, g: LinearGeometry, relu: boolean): FloatArray {
  const { m, k, n } = g;
  const y = allocLike(x, m * n);
  gemm(false, true, m, n, k, 1, x, 0, k, w, 0, k, 0, y, 0, n);
  if (b !== null || relu) {
    for (let r = 0; r < m; r++) {
      const row = r * n;
      for (let j = 0; j < n; j++) {
        const v = y[row + j]! + (b === null ? 0 : b[j]!);
        y[row + j]! = relu && v < 0 ? 0 : v;
      }
    }
  }
  return y;
}

export function linearBackwardData(gy: FloatArray, w: FloatArray, g: LinearGeometry): FloatArray {
  const { m, k, n } = g;
  const gx = allocLike(gy, m * k);
  gemm(false, false, m, k, n, 1, gy, 0, n, w, 0, k, 0, gx, 0, k);
  return gx;
}

export function linearBackwardWeights(
  gy: FloatArray,
  x: FloatArray,
  g: LinearGeometry,
  withBias: boolean,
): { gw: FloatArray; gb: FloatArray | null } {
  const { m, k, n } = g;
  const gw = allocLike(gy, n * k);
  gemm(true, false, n, k, m, 1, gy, 0, n, x, 0, k, 0, gw, 0, k);
  let gb: FloatArray | null = null;
  if (withBias) {
    const sums = new Float64Array(n);
    for (let r = 0; r < m; r++) {
      const row = r * n;
      for (let j = 0; j < n; j++) sums[j]! += gy[row + j]!;
    }
    gb = allocLike(gy, n);
    gb.set(sums);
  }
  return { gw, gb };
}
