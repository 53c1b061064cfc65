// Max pooling and adaptive average pooling over x [n, c, h, w] → y [n, c, oh, ow].
// Max pooling: window rows [oy·sh − ph, oy·sh − ph + kh) clipped to the input (padding acts as
// −inf; ceil mode's extra bottom/right padding is absorbed by the same clipping). As in
// PyTorch, the first maximum in scan order wins and NaN propagates (the last NaN's index is
// kept). Argmax indices (flat within each [h, w] plane) are kept for backward, which
// scatter-adds gy to them.
// Adaptive average pooling uses PyTorch's windows [floor(i·H/OH), ceil((i+1)·H/OH)).
import type { AdaptivePoolGeometry, FloatArray, PoolGeometry } from '../backend.js';
import { adaptiveWindow } from '../conv_util.js';
import { allocLike } from './storage.js';

/** y and argmax [n, c, oh, ow]; argmax holds iy·w + ix within the plane. */
export function maxPoolForward(x: FloatArray, g: PoolGeometry): { y: FloatArray; argmax: Int32Array } {
  const { n, c, h, w, kh, kw, oh, ow, strideH: sh, strideW: sw, padH: ph, padW: pw } = g;
  const planes = n * c;
  const y = allocLike(x, planes * oh * ow);
  const argmax = new Int32Array(planes * oh * ow);
  for (let pl = 0; pl < planes; pl++) {
    const xBase = pl * h * w;
    const yBase = pl * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(oy * sh - ph, 0);
      const y1 = Math.min(oy * sh - ph + kh, h);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(ox * sw - pw, 0);
        const x1 = Math.min(ox * sw - pw + kw, w);
        let best = -Infinity;
        let bestAt = y0 * w + x0;
        for (let iy = y0; iy < y1; iy++) {
          const row = iy * w;
          for (let ix = x0; ix < x1; ix++) {
            const v = x[xBase + row + ix]!;
            if (v > best || v !== v) {
              best = v;
              bestAt = row + ix;
            }
          }
        }
        y[yBase + oy * ow + ox] = best;
        argmax[yBase + oy * ow + ox] = bestAt;
      }
    }
  }
  return { y, argmax };
}

/** gx [n, c, h, w]: gy scatter-added to each window's argmax. */
export function maxPoolBackward(gy: FloatArray, argmax: Int32Array, g: PoolGeometry): FloatArray {
  const { n, c, h, w, oh, ow } = g;
  const gx = allocLike(gy, n * c * h * w);
  const outPlane = oh * ow;
  for (let pl = 0; pl < n * c; pl++) {
    const xBase = pl * h * w;
    const yBase = pl * outPlane;
    for (let i = 0; i < outPlane; i++) gx[xBase + argmax[yBase + i]!]! += gy[yBase + i]!;
  }
  return gx;
}

/**
 * Visits every output element of an adaptive pool: `visit(xBase, out, y0, y1, x0, x1)` with the
 * input plane's offset, the output index, and the window's rows [y0, y1) and columns [x0, x1).
 */
function forEachAdaptiveWindow(
  g: AdaptivePoolGeometry,
  visit: (xBase: number, out: number, y0: number, y1: number, x0: number, x1: number) => void,
): void {
  const { n, c, h, w, oh, ow } = g;
  for (let pl = 0; pl < n * c; pl++) {
    for (let oy = 0; oy < oh; oy++) {
      const [y0, y1] = adaptiveWindow(oy, h, oh);
      for (let ox = 0; ox < ow; ox++) {
        const [x0, x1] = adaptiveWindow(ox, w, ow);
        visit(pl * h * w, (pl * oh + oy) * ow + ox, y0, y1, x0, x1);
      }
    }
  }
}

/** y [n, c, oh, ow] = mean of x over each adaptive window. */
export function adaptiveAvgPoolForward(x: FloatArray, g: AdaptivePoolGeometry): FloatArray {
  const w = g.w;
  const y = allocLike(x, g.n * g.c * g.oh * g.ow);
  forEachAdaptiveWindow(g, (xBase, out, y0, y1, x0, x1) => {
    let s = 0;
    for (let iy = y0; iy < y1; iy++) {
      for (let ix = x0; ix < x1; ix++) s += x[xBase + iy * w + ix]!;
    }
    y[out] = s / ((y1 - y0) * (x1 - x0));
  });
  return y;
}

/** gx [n, c, h, w]: each gy spread evenly over its window (windows may overlap). */
export function adaptiveAvgPoolBackward(gy: FloatArray, g: AdaptivePoolGeometry): FloatArray {
  const w = g.w;
  const gx = allocLike(gy, g.n * g.c * g.h * w);
  forEachAdaptiveWindow(g, (xBase, out, y0, y1, x0, x1) => {
    const share = gy[out]! / ((y1 - y0) * (x1 - x0));
    for (let iy = y0; iy < y1; iy++) {
      for (let ix = x0; ix < x1; ix++) gx[xBase + iy * w + ix]! += share;
    }
  });
  return gx;
}
