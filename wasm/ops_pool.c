// Pooling kernels of the wasm backend, x [n, c, h, w] -> y [n, c, oh, ow]; threads split the
// n·c planes. Max pooling: windows clipped to the input (padding acts as -inf), the first maximum
// in scan order wins and NaN propagates (the last NaN's index is kept), as the reference and
// PyTorch. Inference (no indices wanted) takes a SIMD128 path: the window's rows are reduced column
// by column with f32x4.max (which propagates NaN), then each output takes the maximum of its
// columns (four outputs at a time with f32x4.max for stride 2); the values are the same, except
// that a window of zeros of both signs gives +0.
// Adaptive average pooling uses PyTorch's windows [floor(i·H/OH), ceil((i+1)·H/OH)).
// Pool geometry: 14 int32 in PoolGeometry order (n c h w kh kw oh ow sh sw ph pw pb pr).
#include <wasm_simd128.h>

#include "ops_common.h"

enum { PN, PC, PH, PW, PKH, PKW, POH, POW, PSH, PSW, PPH, PPW };

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/** The widest row the SIMD path's column buffer holds (on the thread's stack); wider rows go the scalar way. */
enum { MAX_SIMD_ROW = 2048 };

/**
 * Stride 2, windows inside the row (AlexNet's 3×3/2 pools): four outputs at a time, each window
 * column's values for them picked from two loads (lanes 0, 2, 4, 6); returns the outputs done.
 */
static int max_stride2_columns(const float *cols, int kw, int ow, float *out) {
  int ox = 0;
  for (; ox + 4 <= ow; ox += 4) {
    const float *c = cols + 2 * ox;
    v128_t m = wasm_f32x4_splat(-__builtin_inff());
    for (int k = 0; k < kw; k++)
      m = wasm_f32x4_max(m, wasm_i32x4_shuffle(wasm_v128_load(c + k), wasm_v128_load(c + k + 4), 0, 2, 4, 6));
    wasm_v128_store(out + ox, m);
  }
  return ox;
}

/** Max pooling of planes [lo, hi) without indices: column maxima of each window's rows, then of its columns. */
static void max_pool_values(const float *x, float *y, const int *g, int lo, int hi) {
  int h = g[PH], w = g[PW], kh = g[PKH], kw = g[PKW], oh = g[POH], ow = g[POW];
  int sh = g[PSH], sw = g[PSW], ph = g[PPH], pw = g[PPW];
  // Room past the row for the stride-2 path's loads (lanes it reads there are never kept).
  float cols[MAX_SIMD_ROW + 8] __attribute__((aligned(16)));
  for (int i = w; i < w + 8; i++) cols[i] = 0.0f;
  const int stride2 = sw == 2 && pw == 0 && (ow - 1) * 2 + kw <= w;
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = x + (size_t)pl * h * w;
    float *yp = y + (size_t)pl * oh * ow;
    for (int oy = 0; oy < oh; oy++) {
      int y0 = imax(oy * sh - ph, 0), y1 = imin(oy * sh - ph + kh, h);
      int ix = 0;
      for (; ix + 4 <= w; ix += 4) {
        v128_t m = wasm_f32x4_splat(-__builtin_inff());
        for (int iy = y0; iy < y1; iy++) m = wasm_f32x4_max(m, wasm_v128_load(xp + iy * w + ix));
        wasm_v128_store(cols + ix, m);
      }
      for (; ix < w; ix++) {
        float m = -__builtin_inff();
        for (int iy = y0; iy < y1; iy++) {
          float v = xp[iy * w + ix];
          if (v > m || v != v) m = v;
        }
        cols[ix] = m;
      }
      for (int ox = stride2 ? max_stride2_columns(cols, kw, ow, yp + oy * ow) : 0; ox < ow; ox++) {
        int x0 = imax(ox * sw - pw, 0), x1 = imin(ox * sw - pw + kw, w);
        float m = -__builtin_inff();
        for (int c = x0; c < x1; c++) {
          float v = cols[c];
          if (v > m || v != v) m = v;
        }
        yp[oy * ow + ox] = m;
      }
    }
  }
}

WASM_EXPORT void max_pool_forward_f32(const float *x, float *y, int *argmax, const int *g, int tid, int nthreads) {
  int h = g[PH], w = g[PW], kh = g[PKH], kw = g[PKW], oh = g[POH], ow = g[POW];
  int sh = g[PSH], sw = g[PSW], ph = g[PPH], pw = g[PPW];
  int lo, hi;
  thread_range(g[PN] * g[PC], tid, nthreads, &lo, &hi);
  if (!argmax && w <= MAX_SIMD_ROW) {
    max_pool_values(x, y, g, lo, hi);
    return;
  }
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = x + (size_t)pl * h * w;
    size_t yBase = (size_t)pl * oh * ow;
    for (int oy = 0; oy < oh; oy++) {
      int y0 = imax(oy * sh - ph, 0), y1 = imin(oy * sh - ph + kh, h);
      for (int ox = 0; ox < ow; ox++) {
        int x0 = imax(ox * sw - pw, 0), x1 = imin(ox * sw - pw + kw, w);
        float best = -__builtin_inff();
        int bestAt = y0 * w + x0;
        for (int iy = y0; iy < y1; iy++) {
          for (int ix = x0; ix < x1; ix++) {
            float v = xp[iy * w + ix];
            if (v > best || v != v) {
              best = v;
              bestAt = iy * w + ix;
            }
          }
        }
        y[yBase + oy * ow + ox] = best;
        if (argmax) argmax[yBase + oy * ow + ox] = bestAt;
      }
    }
  }
}

/** gx [n, c, h, w]: gy scatter-added (in order, in double) to each window's argmax. */
WASM_EXPORT void max_pool_backward_f32(const float *gy, const int *argmax, float *gx, const int *g, int tid, int nthreads) {
  int hw = g[PH] * g[PW], out = g[POH] * g[POW];
  int lo, hi;
  thread_range(g[PN] * g[PC], tid, nthreads, &lo, &hi);
  for (int pl = lo; pl < hi; pl++) {
    float *gp = gx + (size_t)pl * hw;
    const float *gyp = gy + (size_t)pl * out;
    const int *ap = argmax + (size_t)pl * out;
    for (int i = 0; i < hw; i++) gp[i] = 0.f;
    for (int i = 0; i < out; i++) {
      int at = ap[i];
      if (at >= 0 && at < hw) gp[at] = (float)((double)gp[at] + (double)gyp[i]);
    }
  }
}

enum { AN, AC, AH, AW, AOH, AOW };

static int win_start(int i, int in, int out) { return (int)(((long long)i * in) / out); }
static int win_end(int i, int in, int out) { return (int)((((long long)(i + 1) * in) + out - 1) / out); }

/** Adaptive geometry: 6 int32 (n c h w oh ow). */
WASM_EXPORT void adaptive_avg_pool_forward_f32(const float *x, float *y, const int *g, int tid, int nthreads) {
  int h = g[AH], w = g[AW], oh = g[AOH], ow = g[AOW];
  int lo, hi;
  thread_range(g[AN] * g[AC], tid, nthreads, &lo, &hi);
  for (int pl = lo; pl < hi; pl++) {
    const float *xp = x + (size_t)pl * h * w;
    for (int oy = 0; oy < oh; oy++) {
      int y0 = win_start(oy, h, oh), y1 = win_end(oy, h, oh);
      for (int ox = 0; ox < ow; ox++) {
        int x0 = win_start(ox, w, ow), x1 = win_end(ox, w, ow);
        double s = 0;
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) s += xp[iy * w + ix];
        y[((size_t)pl * oh + oy) * ow + ox] = (float)(s / ((double)(y1 - y0) * (x1 - x0)));
      }
    }
  }
}

/** gx [n, c, h, w]: each gy spread evenly over its (possibly overlapping) window. */
WASM_EXPORT void adaptive_avg_pool_backward_f32(const float *gy, float *gx, const int *g, int tid, int nthreads) {
  int h = g[AH], w = g[AW], oh = g[AOH], ow = g[AOW];
  int lo, hi;
  thread_range(g[AN] * g[AC], tid, nthreads, &lo, &hi);
  for (int pl = lo; pl < hi; pl++) {
    float *gp = gx + (size_t)pl * h * w;
    for (int i = 0; i < h * w; i++) gp[i] = 0.f;
    for (int oy = 0; oy < oh; oy++) {
      int y0 = win_start(oy, h, oh), y1 = win_end(oy, h, oh);
      for (int ox = 0; ox < ow; ox++) {
        int x0 = win_start(ox, w, ow), x1 = win_end(ox, w, ow);
        double share = (double)gy[((size_t)pl * oh + oy) * ow + ox] / ((double)(y1 - y0) * (x1 - x0));
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) gp[iy * w + ix] = (float)((double)gp[iy * w + ix] + share);
      }
    }
  }
}
