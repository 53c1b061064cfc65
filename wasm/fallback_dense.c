// Plain, correct and slow convolution and linear kernels with the binding interface of the heavy
// kernels (direct loops, sums in double in a fixed order, no scratch). They exist so that the wasm
// backend can run conformance before the fast SIMD kernels (wasm/conv*.c, wasm/linear*.c) are
// merged; the build leaves this file out once those exist. Threads split the outputs.
// Convolution geometry: 14 int32 (n c h w oc kh kw oh ow strideH strideW padH padW groups).
#include "ops_common.h"

enum { GN, GC, GH, GW, GOC, GKH, GKW, GOH, GOW, GSH, GSW, GPH, GPW, GGROUPS };

WASM_EXPORT size_t conv2d_forward_scratch_bytes(const int *g, int nthreads) { return (void)g, (void)nthreads, 0; }
WASM_EXPORT size_t conv2d_backward_data_scratch_bytes(const int *g, int nthreads) { return (void)g, (void)nthreads, 0; }
WASM_EXPORT size_t conv2d_backward_weights_scratch_bytes(const int *g, int nthreads) { return (void)g, (void)nthreads, 0; }
WASM_EXPORT size_t linear_forward_scratch_bytes(int m, int k, int n, int nthreads) { return (void)m, (void)k, (void)n, (void)nthreads, 0; }
WASM_EXPORT size_t linear_backward_data_scratch_bytes(int m, int k, int n, int nthreads) { return (void)m, (void)k, (void)n, (void)nthreads, 0; }
WASM_EXPORT size_t linear_backward_weights_scratch_bytes(int m, int k, int n, int nthreads) { return (void)m, (void)k, (void)n, (void)nthreads, 0; }

/** y [n, oc, oh, ow]; threads split the n·oc output planes. */
WASM_EXPORT void conv2d_forward(const float *x, const float *w, const float *b, float *y, const int *g, int relu, float *scratch, int tid,
                    int nthreads) {
  (void)scratch;
  int c = g[GC], h = g[GH], wd = g[GW], oc = g[GOC], kh = g[GKH], kw = g[GKW], oh = g[GOH], ow = g[GOW];
  int sh = g[GSH], sw = g[GSW], ph = g[GPH], pw = g[GPW];
  int cg = c / g[GGROUPS], ocg = oc / g[GGROUPS];
  int lo, hi;
  thread_range(g[GN] * oc, tid, nthreads, &lo, &hi);
  for (int p = lo; p < hi; p++) {
    int img = p / oc, o = p % oc, c0 = (o / ocg) * cg;
    const float *wo = w + (size_t)o * cg * kh * kw;
    for (int oy = 0; oy < oh; oy++) {
      for (int ox = 0; ox < ow; ox++) {
        double s = 0;
        for (int ci = 0; ci < cg; ci++) {
          const float *xp = x + ((size_t)img * c + c0 + ci) * h * wd;
          for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - ph + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < kw; kx++) {
              int ix = ox * sw - pw + kx;
              if (ix < 0 || ix >= wd) continue;
              s += (double)xp[iy * wd + ix] * (double)wo[(ci * kh + ky) * kw + kx];
            }
          }
        }
        float v = (float)s;
        if (b) v = (float)((double)v + (double)b[o]);
        y[(size_t)p * oh * ow + oy * ow + ox] = relu && v < 0.f ? 0.f : v;
      }
    }
  }
}

/** gx [n, c, h, w]; threads split the n·c input planes. */
WASM_EXPORT void conv2d_backward_data(const float *gy, const float *w, float *gx, const int *g, float *scratch, int tid, int nthreads) {
  (void)scratch;
  int c = g[GC], h = g[GH], wd = g[GW], oc = g[GOC], kh = g[GKH], kw = g[GKW], oh = g[GOH], ow = g[GOW];
  int sh = g[GSH], sw = g[GSW], ph = g[GPH], pw = g[GPW];
  int cg = c / g[GGROUPS], ocg = oc / g[GGROUPS];
  int lo, hi;
  thread_range(g[GN] * c, tid, nthreads, &lo, &hi);
  for (int p = lo; p < hi; p++) {
    int img = p / c, ch = p % c, grp = ch / cg, ci = ch % cg;
    for (int iy = 0; iy < h; iy++) {
      for (int ix = 0; ix < wd; ix++) {
        double s = 0;
        for (int o = grp * ocg; o < (grp + 1) * ocg; o++) {
          const float *gyp = gy + ((size_t)img * oc + o) * oh * ow;
          const float *wo = w + ((size_t)o * cg + ci) * kh * kw;
          for (int ky = 0; ky < kh; ky++) {
            int ty = iy + ph - ky;
            if (ty < 0 || ty % sh != 0 || ty / sh >= oh) continue;
            for (int kx = 0; kx < kw; kx++) {
              int tx = ix + pw - kx;
              if (tx < 0 || tx % sw != 0 || tx / sw >= ow) continue;
              s += (double)gyp[(ty / sh) * ow + tx / sw] * (double)wo[ky * kw + kx];
            }
          }
        }
        gx[(size_t)p * h * wd + iy * wd + ix] = (float)s;
      }
    }
  }
}

/** gw [oc, c/groups, kh, kw] and gb [oc] (gb may be 0); threads split the output channels. */
WASM_EXPORT void conv2d_backward_weights(const float *gy, const float *x, float *gw, float *gb, const int *g, float *scratch, int tid,
                             int nthreads) {
  (void)scratch;
  int n = g[GN], c = g[GC], h = g[GH], wd = g[GW], oc = g[GOC], kh = g[GKH], kw = g[GKW], oh = g[GOH], ow = g[GOW];
  int sh = g[GSH], sw = g[GSW], ph = g[GPH], pw = g[GPW];
  int cg = c / g[GGROUPS], ocg = oc / g[GGROUPS];
  int lo, hi;
  thread_range(oc, tid, nthreads, &lo, &hi);
  for (int o = lo; o < hi; o++) {
    int c0 = (o / ocg) * cg;
    for (int ci = 0; ci < cg; ci++) {
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          double s = 0;
          for (int img = 0; img < n; img++) {
            const float *gyp = gy + ((size_t)img * oc + o) * oh * ow;
            const float *xp = x + ((size_t)img * c + c0 + ci) * h * wd;
            for (int oy = 0; oy < oh; oy++) {
              int iy = oy * sh - ph + ky;
              if (iy < 0 || iy >= h) continue;
              for (int ox = 0; ox < ow; ox++) {
                int ix = ox * sw - pw + kx;
                if (ix < 0 || ix >= wd) continue;
                s += (double)gyp[oy * ow + ox] * (double)xp[iy * wd + ix];
              }
            }
          }
          gw[(((size_t)o * cg + ci) * kh + ky) * kw + kx] = (float)s;
        }
      }
    }
    if (gb) {
      double s = 0;
      for (int img = 0; img < n; img++) {
        const float *gyp = gy + ((size_t)img * oc + o) * oh * ow;
        for (int i = 0; i < oh * ow; i++) s += gyp[i];
      }
      gb[o] = (float)s;
    }
  }
}

/** y [m, n] = x [m, k] · w [n, k]ᵀ + b; threads split the rows of y. */
WASM_EXPORT void linear_forward(const float *x, const float *w, const float *b, float *y, int m, int k, int n, int relu, float *scratch, int tid,
                    int nthreads) {
  (void)scratch;
  int lo, hi;
  thread_range(m, tid, nthreads, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int i = 0; i < k; i++) s += (double)x[(size_t)r * k + i] * (double)w[(size_t)j * k + i];
      float v = (float)s;
      if (b) v = (float)((double)v + (double)b[j]);
      y[(size_t)r * n + j] = relu && v < 0.f ? 0.f : v;
    }
  }
}

/** gx [m, k] = gy [m, n] · w [n, k]; threads split the rows of gx. */
WASM_EXPORT void linear_backward_data(const float *gy, const float *w, float *gx, int m, int k, int n, float *scratch, int tid, int nthreads) {
  (void)scratch;
  int lo, hi;
  thread_range(m, tid, nthreads, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    for (int i = 0; i < k; i++) {
      double s = 0;
      for (int j = 0; j < n; j++) s += (double)gy[(size_t)r * n + j] * (double)w[(size_t)j * k + i];
      gx[(size_t)r * k + i] = (float)s;
    }
  }
}

/** gw [n, k] = gyᵀ · x, gb [n] = Σ_rows gy (gb may be 0); threads split the rows of gw. */
WASM_EXPORT void linear_backward_weights(const float *gy, const float *x, float *gw, float *gb, int m, int k, int n, float *scratch, int tid,
                             int nthreads) {
  (void)scratch;
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int j = lo; j < hi; j++) {
    for (int i = 0; i < k; i++) {
      double s = 0;
      for (int r = 0; r < m; r++) s += (double)gy[(size_t)r * n + j] * (double)x[(size_t)r * k + i];
      gw[(size_t)j * k + i] = (float)s;
    }
    if (gb) {
      double s = 0;
      for (int r = 0; r < m; r++) s += gy[(size_t)r * n + j];
      gb[j] = (float)s;
    }
  }
}
