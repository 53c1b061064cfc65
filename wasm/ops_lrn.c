// Local response normalisation across channels with PyTorch's semantics, x [n, c, s]
// (s = the product of the spatial dims), as the reference backend computes it (in double):
//   scale_c = k + alpha/size · Σ_{c' = c − ⌊size/2⌋}^{c + ⌊(size−1)/2⌋} x_{c'}²   (zero outside [0, c))
//   y_c = x_c · scale_c^(−beta)
//   gx_i = gy_i · scale_i^(−beta) − (2·alpha·beta/size) · x_i · Σ_j gy_j · y_j / scale_j,
//          j ∈ [i − ⌊(size−1)/2⌋, i + ⌊size/2⌋]
// Threads split the n·c output planes; each plane sums its window directly (a fixed order).
#include "ops_common.h"

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/** y and scale [n, c, s] (scale may be 0: not kept). */
WASM_EXPORT void lrn_forward_f32(const float *x, float *y, float *scale, int n, int c, int s, int size, double alpha, double beta, double k,
                     int tid, int nthreads) {
  int before = size / 2, after = (size - 1) / 2;
  double factor = alpha / size;
  int lo, hi;
  thread_range(n * c, tid, nthreads, &lo, &hi);
  for (int p = lo; p < hi; p++) {
    int img = p / c, ch = p % c;
    int c0 = imax(0, ch - before), c1 = imin(c - 1, ch + after);
    const float *base = x + (size_t)img * c * s;
    size_t at = (size_t)p * s;
    for (int i = 0; i < s; i++) {
      double sum = 0;
      for (int cc = c0; cc <= c1; cc++) {
        double v = base[(size_t)cc * s + i];
        sum += v * v;
      }
      float sc = (float)(k + factor * sum);
      if (scale) scale[at + i] = sc;
      y[at + i] = (float)((double)x[at + i] * js_pow(sc, -beta));
    }
  }
}

/** gx [n, c, s] from gy, x, y and the forward scale. */
WASM_EXPORT void lrn_backward_f32(const float *gy, const float *x, const float *y, const float *scale, float *gx, int n, int c, int s, int size,
                      double alpha, double beta, int tid, int nthreads) {
  int before = size / 2, after = (size - 1) / 2;
  double coeff = (2 * alpha * beta) / size;
  int lo, hi;
  thread_range(n * c, tid, nthreads, &lo, &hi);
  for (int p = lo; p < hi; p++) {
    int img = p / c, ch = p % c;
    int c0 = imax(0, ch - after), c1 = imin(c - 1, ch + before);
    size_t base = (size_t)img * c * s;
    size_t at = (size_t)p * s;
    for (int i = 0; i < s; i++) {
      double sum = 0;
      for (int cc = c0; cc <= c1; cc++) {
        size_t j = base + (size_t)cc * s + i;
        sum += ((double)gy[j] * (double)y[j]) / (double)scale[j];
      }
      gx[at + i] = (float)((double)gy[at + i] * js_pow(scale[at + i], -beta) - coeff * (double)x[at + i] * sum);
    }
  }
}
