// Elementwise kernels on flat arrays of one dtype: unary maps, binary maps of equal length,
// tensor–scalar maps, in-place axpy, bias broadcast along axis 1 and ReLU with its backward.
// Results take the dtype of the first operand. NaN behaves as in PyTorch (relu/max/min keep it;
// sign(NaN) is 0 as torch 1.13 computes it).
import type { BinaryOp, FloatArray, ScalarOp, UnaryOp } from '../backend.js';
import { allocLike } from './storage.js';

export function unaryKernel(op: UnaryOp, x: FloatArray): FloatArray {
  const n = x.length;
  const y = allocLike(x, n);
  switch (op) {
    case 'neg':
      for (let i = 0; i < n; i++) y[i] = -x[i]!;
      break;
    case 'exp':
      for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]!);
      break;
    case 'log':
      for (let i = 0; i < n; i++) y[i] = Math.log(x[i]!);
      break;
    case 'sqrt':
      for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]!);
      break;
    case 'abs':
      for (let i = 0; i < n; i++) y[i] = Math.abs(x[i]!);
      break;
    case 'relu':
      reluInto(x, y);
      break;
    case 'sign':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        y[i] = v > 0 ? 1 : v < 0 ? -1 : 0;
      }
      break;
    default:
      throw new Error(`reference backend: unknown unary op '${op as string}'`);
  }
  return y;
}

export function binaryKernel(op: BinaryOp, a: FloatArray, b: FloatArray): FloatArray {
  const n = a.length;
  if (b.length !== n) throw new Error(`reference backend: binary '${op}' needs equal sizes, got ${n} and ${b.length}`);
  const y = allocLike(a, n);
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) y[i] = a[i]! + b[i]!;
      break;
    case 'sub':
      for (let i = 0; i < n; i++) y[i] = a[i]! - b[i]!;
      break;
    case 'mul':
      for (let i = 0; i < n; i++) y[i] = a[i]! * b[i]!;
      break;
    case 'div':
      for (let i = 0; i < n; i++) y[i] = a[i]! / b[i]!;
      break;
    case 'max':
      for (let i = 0; i < n; i++) y[i] = Math.max(a[i]!, b[i]!);
      break;
    case 'min':
      for (let i = 0; i < n; i++) y[i] = Math.min(a[i]!, b[i]!);
      break;
    default:
      throw new Error(`reference backend: unknown binary op '${op as string}'`);
  }
  return y;
}

export function scalarKernel(op: ScalarOp, x: FloatArray, v: number): FloatArray {
  const n = x.length;
  const y = allocLike(x, n);
  switch (op) {
    case 'add':
      for (let i = 0; i < n; i++) y[i] = x[i]! + v;
      break;
    case 'mul':
      for (let i = 0; i < n; i++) y[i] = x[i]! * v;
      break;
    case 'pow':
      if (v === 2) for (let i = 0; i < n; i++) y[i] = x[i]! * x[i]!;
      else for (let i = 0; i < n; i++) y[i] = Math.pow(x[i]!, v);
      break;
    case 'max':
      for (let i = 0; i < n; i++) y[i] = Math.max(x[i]!, v);
      break;
    case 'min':
      for (let i = 0; i < n; i++) y[i] = Math.min(x[i]!, v);
      break;
    case 'rsub':
      for (let i = 0; i < n; i++) y[i] = v - x[i]!;
      break;
    case 'rdiv':
      for (let i = 0; i < n; i++) y[i] = v / x[i]!;
      break;
    default:
      throw new Error(`reference backend: unknown scalar op '${op as string}'`);
  }
  return y;
}

/** dst += alpha · src, in place. */
export function axpyKernel(dst: FloatArray, src: FloatArray, alpha: number): void {
  const n = dst.length;
  if (src.length !== n) throw new Error(`reference backend: axpyInPlace needs equal sizes, got ${n} and ${src.length}`);
  if (alpha === 1) for (let i = 0; i < n; i++) dst[i]! += src[i]!;
  else for (let i = 0; i < n; i++) dst[i]! += alpha * src[i]!;
}

/** y [outer, c, inner] = x + b[c] (outer = shape[0], inner = product of shape[2:]). */
export function addBiasKernel(x: FloatArray, b: FloatArray, outer: number, c: number, inner: number): FloatArray {
  const y = allocLike(x, x.length);
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const bv = b[ch]!;
      const base = (o * c + ch) * inner;
      for (let i = base; i < base + inner; i++) y[i] = x[i]! + bv;
    }
  }
  return y;
}

/** y = max(x, 0), NaN kept (as torch.relu). */
export function reluInto(x: FloatArray, y: FloatArray): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v < 0 ? 0 : v;
  }
}

/** In place y[start:end] = relu(y[start:end] + bias): the fused epilogue of conv and linear. */
export function biasReluInPlace(y: FloatArray, start: number, end: number, bias: number, relu: boolean): void {
  if (relu) {
    for (let i = start; i < end; i++) {
      const v = y[i]! + bias;
      y[i] = v < 0 ? 0 : v;
    }
  } else if (bias !== 0) {
    for (let i = start; i < end; i++) y[i]! += bias;
  }
}

/** gx = gy where y > 0, else 0. */
export function reluBackwardKernel(gy: FloatArray, y: FloatArray): FloatArray {
  const n = gy.length;
  if (y.length !== n) throw new Error(`reference backend: reluBackward needs equal sizes, got ${n} and ${y.length}`);
  const gx = allocLike(gy, n);
  for (let i = 0; i < n; i++) gx[i] = y[i]! <= 0 ? 0 : gy[i]!;
  return gx;
}
