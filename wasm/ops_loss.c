// Log-softmax and softmax cross-entropy over logits [n, c], row by row, as the reference backend
// computes them (in double): logsumexp = max + log Σ exp(x − max); a NaN or +inf in a row makes it
// NaN, a row of -inf gives -inf. Threads split the rows; the batch loss is summed by the caller
// from the per-row losses in row order, so it does not depend on the thread count.
#include "ops_common.h"

static double log_sum_exp(const float *x, int c) {
  double max = -__builtin_inf();
  for (int j = 0; j < c; j++) {
    double v = x[j];
    if (v > max || v != v) max = v;
    if (max != max) return __builtin_nan("");
  }
  if (max == __builtin_inf()) return __builtin_nan("");
  if (max == -__builtin_inf()) return -__builtin_inf();
  double s = 0;
  for (int j = 0; j < c; j++) s += js_exp((double)x[j] - max);
  return max + js_log(s);
}

WASM_EXPORT void log_softmax_f32(const float *x, float *y, int n, int c, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    const float *xr = x + (size_t)r * c;
    double lse = log_sum_exp(xr, c);
    for (int j = 0; j < c; j++) y[(size_t)r * c + j] = (float)((double)xr[j] - lse);
  }
}

/** gx = gy − exp(y) · Σ_j gy[row, j]. */
WASM_EXPORT void log_softmax_backward_f32(const float *gy, const float *y, float *gx, int n, int c, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    size_t base = (size_t)r * c;
    double s = 0;
    for (int j = 0; j < c; j++) s += gy[base + j];
    for (int j = 0; j < c; j++) gx[base + j] = (float)((double)gy[base + j] - js_exp(y[base + j]) * s);
  }
}

/** probs = softmax(logits); rowLoss[r] = logsumexp − logit[label] (labels checked by the caller). */
WASM_EXPORT void softmax_xent_f32(const float *logits, const int *labels, float *probs, double *rowLoss, int n, int c, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    const float *xr = logits + (size_t)r * c;
    double lse = log_sum_exp(xr, c);
    for (int j = 0; j < c; j++) probs[(size_t)r * c + j] = (float)js_exp((double)xr[j] - lse);
    rowLoss[r] = lse - (double)xr[labels[r]];
  }
}

/** gx = (probs − onehot(labels)) · scale / n. */
WASM_EXPORT void softmax_xent_backward_f32(const float *probs, const int *labels, float *gx, int n, int c, double scale, int tid, int nthreads) {
  double f = scale / n;
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int r = lo; r < hi; r++) {
    size_t base = (size_t)r * c;
    for (int j = 0; j < c; j++) gx[base + j] = (float)((double)probs[base + j] * f);
    size_t at = base + labels[r];
    gx[at] = (float)((double)gx[at] - f);
  }
}
