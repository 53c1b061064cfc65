// 2-D convolution by im2col + GEMM, one GEMM per (image, group).
//   x [n, c, h, w], w [oc, c/groups, kh, kw], b [oc], y [n, oc, oh, ow]
// For group g of image i, with K = (c/groups)·kh·kw and P = oh·ow:
//   forward          y_g [oc/groups, P] = w_g [oc/groups, K] · col [K, P]  (+ bias, ReLU fused)
//   backward data    col [K, P] = w_gᵀ · gy_g, then col2im scatters col back into gx
//   backward weights gw_g [oc/groups, K] += gy_g · colᵀ, summed over the batch; gb = Σ gy
// The column buffer is float64 and reused between calls; a 1×1/stride-1/no-padding kernel
// skips im2col (the input plane already is the column matrix).
import type { ConvGeometry, FloatArray } from '../backend.js';
import { gemm } from './gemm.js';
import { biasReluInPlace } from './elementwise.js';
import { allocLike } from './storage.js';

let colBuffer = new Float64Array(0);

function columns(size: number): Float64Array {
  if (colBuffer.length < size) colBuffer = new Float64Array(size);
  return colBuffer;
}

function isPointwise(g: ConvGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.strideH === 1 && g.strideW === 1 && g.padH === 0 && g.padW === 0;
}

/** First and one-past-last output column whose input column ox·sw − pw + kx lies inside [0, w). */
function validRange(kx: number, sw: number, pw: number, w: number, ow: number): [number, number] {
  const lo = Math.max(0, Math.ceil((pw - kx) / sw));
  const hi = Math.min(ow, Math.floor((w - 1 + pw - kx) / sw) + 1);
  return [lo, Math.max(lo, hi)];
}

/** col [channels·kh·kw, oh·ow] from x [channels, h, w] starting at xOff (zeros where padded). */
export function im2col(x: FloatArray, xOff: number, channels: number, g: ConvGeometry, col: Float64Array): void {
  const { h, w, kh, kw, oh, ow, strideH: sh, strideW: sw, padH: ph, padW: pw } = g;
  const p = oh * ow;
  let row = 0;
  for (let ci = 0; ci < channels; ci++) {
    const plane = xOff + ci * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const [lo, hi] = validRange(kx, sw, pw, w, ow);
        const rowStart = row * p;
        for (let oy = 0; oy < oh; oy++) {
          const d = rowStart + oy * ow;
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) {
            col.fill(0, d, d + ow);
            continue;
          }
          const src = plane + iy * w - pw + kx;
          for (let ox = 0; ox < lo; ox++) col[d + ox] = 0;
          if (sw === 1) for (let ox = lo; ox < hi; ox++) col[d + ox] = x[src + ox]!;
          else for (let ox = lo; ox < hi; ox++) col[d + ox] = x[src + ox * sw]!;
          for (let ox = hi; ox < ow; ox++) col[d + ox] = 0;
        }
      }
    }
  }
}

/** gx [channels, h, w] at gxOff += the column matrix col [channels·kh·kw, oh·ow] scattered back. */
export function col2im(col: Float64Array, channels: number, g: ConvGeometry, gx: FloatArray, gxOff: number): void {
  const { h, w, kh, kw, oh, ow, strideH: sh, strideW: sw, padH: ph, padW: pw } = g;
  const p = oh * ow;
  let row = 0;
  for (let ci = 0; ci < channels; ci++) {
    const plane = gxOff + ci * h * w;
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++, row++) {
        const [lo, hi] = validRange(kx, sw, pw, w, ow);
        const rowStart = row * p;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + ky;
          if (iy < 0 || iy >= h) continue;
          const s = rowStart + oy * ow;
          const dst = plane + iy * w - pw + kx;
          for (let ox = lo; ox < hi; ox++) gx[dst + ox * sw]! += col[s + ox]!;
        }
      }
    }
  }
}

/** y [n, oc, oh, ow] = conv(x, w) + b, ReLU'd when `relu`. */
export function conv2dForward(x: FloatArray, w: FloatArray, b: FloatArray | null, g: ConvGeometry, relu: boolean): FloatArray {
  const { n, c, h, oc, kh, kw, oh, ow, groups } = g;
  const icg = c / groups;
  const ocg = oc / groups;
  const kdim = icg * kh * kw;
  const p = oh * ow;
  const y = allocLike(x, n * oc * p);
  const pointwise = isPointwise(g);
  const col = pointwise ? null : columns(kdim * p);
  for (let img = 0; img < n; img++) {
    for (let gi = 0; gi < groups; gi++) {
      const xOff = (img * c + gi * icg) * h * g.w;
      const yOff = (img * oc + gi * ocg) * p;
      if (col === null) {
        gemm(false, false, ocg, p, kdim, 1, w, gi * ocg * kdim, kdim, x, xOff, p, 0, y, yOff, p);
      } else {
        im2col(x, xOff, icg, g, col);
        gemm(false, false, ocg, p, kdim, 1, w, gi * ocg * kdim, kdim, col, 0, p, 0, y, yOff, p);
      }
    }
    if (b !== null || relu) {
      for (let o = 0; o < oc; o++) {
        const start = (img * oc + o) * p;
        biasReluInPlace(y, start, start + p, b === null ? 0 : b[o]!, relu);
      }
    }
  }
  return y;
}

/** gx [n, c, h, w] from gy [n, oc, oh, ow] and w. */
export function conv2dBackwardData(gy: FloatArray, w: FloatArray, g: ConvGeometry): FloatArray {
  const { n, c, h, oc, kh, kw, oh, ow, groups } = g;
  const icg = c / groups;
  const ocg = oc / groups;
  const kdim = icg * kh * kw;
  const p = oh * ow;
  const gx = allocLike(gy, n * c * h * g.w);
  const pointwise = isPointwise(g);
  const col = pointwise ? null : columns(kdim * p);
  for (let img = 0; img < n; img++) {
    for (let gi = 0; gi < groups; gi++) {
      const gyOff = (img * oc + gi * ocg) * p;
      const gxOff = (img * c + gi * icg) * h * g.w;
      if (col === null) {
        gemm(true, false, kdim, p, ocg, 1, w, gi * ocg * kdim, kdim, gy, gyOff, p, 0, gx, gxOff, p);
      } else {
        gemm(true, false, kdim, p, ocg, 1, w, gi * ocg * kdim, kdim, gy, gyOff, p, 0, col, 0, p);
        col2im(col, icg, g, gx, gxOff);
      }
    }
  }
  return gx;
}

/** gw [oc, c/groups, kh, kw] = Σ_images gy · colᵀ, and gb [oc] = Σ gy when `withBias`. */
export function conv2dBackwardWeights(
  gy: FloatArray,
  x: FloatArray,
  g: ConvGeometry,
  withBias: boolean,
): { gw: FloatArray; gb: FloatArray | null } {
  const { n, c, h, oc, kh, kw, oh, ow, groups } = g;
  const icg = c / groups;
  const ocg = oc / groups;
  const kdim = icg * kh * kw;
  const p = oh * ow;
  const acc = new Float64Array(oc * kdim);
  const pointwise = isPointwise(g);
  const col = pointwise ? null : columns(kdim * p);
  for (let img = 0; img < n; img++) {
    for (let gi = 0; gi < groups; gi++) {
      const gyOff = (img * oc + gi * ocg) * p;
      const xOff = (img * c + gi * icg) * h * g.w;
      if (col === null) {
        gemm(false, true, ocg, kdim, p, 1, gy, gyOff, p, x, xOff, p, 1, acc, gi * ocg * kdim, kdim);
      } else {
        im2col(x, xOff, icg, g, col);
        gemm(false, true, ocg, kdim, p, 1, gy, gyOff, p, col, 0, p, 1, acc, gi * ocg * kdim, kdim);
      }
    }
  }
  const gw = allocLike(gy, oc * kdim);
  gw.set(acc);
  let gb: FloatArray | null = null;
  if (withBias) {
    const sums = new Float64Array(oc);
    for (let img = 0; img < n; img++) {
      for (let o = 0; o < oc; o++) {
        const start = (img * oc + o) * p;
        let s = 0;
        for (let i = start; i < start + p; i++) s += gy[i]!;
        sums[o]! += s;
      }
    }
    gb = allocLike(gy, oc);
    gb.set(sums);
  }
  return { gw, gb };
}
