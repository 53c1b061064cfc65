// Local response normalisation across channels with PyTorch's semantics
// (torch.nn.functional.local_response_norm), x [n, c, ...spatial] with s = Π spatial:
//   scale_c = k + alpha/size · Σ_{c' = c − ⌊size/2⌋}^{c + ⌊(size−1)/2⌋} x_{c'}²   (zero outside [0, c))
//   y_c = x_c · scale_c^(−beta)
// Backward, with j ranging over the channels whose window contains i (j ∈ [i − ⌊(size−1)/2⌋,
// i + ⌊size/2⌋]):  gx_i = gy_i · scale_i^(−beta) − (2·alpha·beta/size) · x_i · Σ_j gy_j · y_j / scale_j
import type { FloatArray, LrnParams, Shape } from '../backend.js';
import { allocLike, numel } from './storage.js';
import { ShapeError } from '../../errors.js';

interface LrnDims {
  n: number;
  c: number;
  s: number;
}

export function lrnDims(shape: Shape): LrnDims {
  const [n, c] = shape;
  if (shape.length < 3 || n === undefined || c === undefined)
    throw new ShapeError(`local_response_norm: expected an input of 3 or more dimensions [N, C, ...], got [${shape.join(', ')}]`);
  return { n, c, s: numel(shape.slice(2)) };
}

/** scale [n, c, s] = k + alpha/size · (windowed sum of squares over channels). */
export function lrnScale(x: FloatArray, shape: Shape, p: LrnParams): FloatArray {
  const { n, c, s } = lrnDims(shape);
  const before = Math.floor(p.size / 2);
  const after = Math.floor((p.size - 1) / 2);
  const scale = allocLike(x, x.length);
  const squares = new Float64Array(c * s);
  const sums = new Float64Array(s);
  const factor = p.alpha / p.size;
  for (let img = 0; img < n; img++) {
    const base = img * c * s;
    for (let i = 0; i < c * s; i++) squares[i] = x[base + i]! * x[base + i]!;
    for (let ch = 0; ch < c; ch++) {
      sums.fill(0);
      const lo = Math.max(0, ch - before);
      const hi = Math.min(c - 1, ch + after);
      for (let cc = lo; cc <= hi; cc++) {
        const plane = cc * s;
        for (let i = 0; i < s; i++) sums[i]! += squares[plane + i]!;
      }
      const out = base + ch * s;
      for (let i = 0; i < s; i++) scale[out + i] = p.k + factor * sums[i]!;
    }
  }
  return scale;
}

/** y = x · scale^(−beta); also returns the scale for backward. */
export function lrnForward(x: FloatArray, shape: Shape, p: LrnParams): { y: FloatArray; scale: FloatArray } {
  const scale = lrnScale(x, shape, p);
  const y = allocLike(x, x.length);
  const negBeta = -p.beta;
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * Math.pow(scale[i]!, negBeta);
  return { y, scale };
}

/** gx [n, c, s] from gy, x, y and the forward scale (see the header for the formula). */
export function lrnBackward(gy: FloatArray, x: FloatArray, y: FloatArray, scale: FloatArray, shape: Shape, p: LrnParams): FloatArray {
  const { n, c, s } = lrnDims(shape);
  const before = Math.floor(p.size / 2);
  const after = Math.floor((p.size - 1) / 2);
  const gx = allocLike(gy, gy.length);
  const ratio = new Float64Array(c * s); // gy_j · y_j / scale_j for one image
  const sums = new Float64Array(s);
  const coeff = (2 * p.alpha * p.beta) / p.size;
  const negBeta = -p.beta;
  for (let img = 0; img < n; img++) {
    const base = img * c * s;
    for (let i = 0; i < c * s; i++) ratio[i] = (gy[base + i]! * y[base + i]!) / scale[base + i]!;
    for (let ch = 0; ch < c; ch++) {
      sums.fill(0);
      const lo = Math.max(0, ch - after);
      const hi = Math.min(c - 1, ch + before);
      for (let cc = lo; cc <= hi; cc++) {
        const plane = cc * s;
        for (let i = 0; i < s; i++) sums[i]! += ratio[plane + i]!;
      }
      const at = base + ch * s;
      for (let i = 0; i < s; i++) {
        gx[at + i] = gy[at + i]! * Math.pow(scale[at + i]!, negBeta) - coeff * x[at + i]! * sums[i]!;
      }
    }
  }
  return gx;
}
