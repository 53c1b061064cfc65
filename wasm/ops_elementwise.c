// Elementwise kernels of the wasm backend over float32 buffers: unary, binary and tensor-scalar
// maps, in-place axpy, bias broadcast along axis 1 and ReLU with its backward. Arithmetic is done
// in double and rounded once to float32, exactly as the reference backend (JavaScript numbers)
// does, so the two agree bit for bit. Every kernel computes the elements [lo, hi) of its thread.
#include "ops_common.h"

enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_RELU, U_SIGN };
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN };
enum { S_ADD, S_MUL, S_POW, S_MAX, S_MIN, S_RSUB, S_RDIV };

WASM_EXPORT void unary_f32(int op, const float *x, float *y, int n, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) {
    float v = x[i];
    switch (op) {
      case U_NEG: y[i] = -v; break;
      case U_EXP: y[i] = (float)js_exp(v); break;
      case U_LOG: y[i] = (float)js_log(v); break;
      case U_SQRT: y[i] = __builtin_sqrtf(v); break;
      case U_ABS: y[i] = __builtin_fabsf(v); break;
      case U_RELU: y[i] = v < 0.f ? 0.f : v; break;
      default: y[i] = v > 0.f ? 1.f : v < 0.f ? -1.f : 0.f; break; // sign(NaN) = 0, as the reference
    }
  }
}

WASM_EXPORT void binary_f32(int op, const float *a, const float *b, float *y, int n, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) {
    double u = a[i], v = b[i];
    switch (op) {
      case B_ADD: y[i] = (float)(u + v); break;
      case B_SUB: y[i] = (float)(u - v); break;
      case B_MUL: y[i] = (float)(u * v); break;
      case B_DIV: y[i] = (float)(u / v); break;
      case B_MAX: y[i] = (float)js_max(u, v); break;
      default: y[i] = (float)js_min(u, v); break;
    }
  }
}

WASM_EXPORT void scalar_f32(int op, const float *x, double v, float *y, int n, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) {
    double u = x[i];
    switch (op) {
      case S_ADD: y[i] = (float)(u + v); break;
      case S_MUL: y[i] = (float)(u * v); break;
      case S_POW: y[i] = (float)(v == 2 ? u * u : js_pow(u, v)); break;
      case S_MAX: y[i] = (float)js_max(u, v); break;
      case S_MIN: y[i] = (float)js_min(u, v); break;
      case S_RSUB: y[i] = (float)(v - u); break;
      default: y[i] = (float)(v / u); break;
    }
  }
}

/** dst += alpha · src. */
WASM_EXPORT void axpy_f32(float *dst, const float *src, double alpha, int n, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  if (alpha == 1) {
    for (int i = lo; i < hi; i++) dst[i] = (float)((double)dst[i] + (double)src[i]);
  } else {
    for (int i = lo; i < hi; i++) dst[i] = (float)((double)dst[i] + alpha * (double)src[i]);
  }
}

/** y [outer, c, inner] = x + b[c]; threads split the outer·c planes. */
WASM_EXPORT void add_bias_f32(const float *x, const float *b, float *y, int outer, int c, int inner, int tid, int nthreads) {
  int lo, hi;
  thread_range(outer * c, tid, nthreads, &lo, &hi);
  for (int p = lo; p < hi; p++) {
    double bv = b[p % c];
    const float *xp = x + (size_t)p * inner;
    float *yp = y + (size_t)p * inner;
    for (int i = 0; i < inner; i++) yp[i] = (float)((double)xp[i] + bv);
  }
}

/** y = x < 0 ? 0 : x (NaN stays NaN). */
WASM_EXPORT void relu_f32(const float *x, float *y, int n, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) y[i] = x[i] < 0.f ? 0.f : x[i];
}

/** gx = y <= 0 ? 0 : gy (a NaN output passes its gradient, as PyTorch). */
WASM_EXPORT void relu_backward_f32(const float *gy, const float *y, float *gx, int n, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) gx[i] = y[i] <= 0.f ? 0.f : gy[i];
}

/** y[0] = Σ x, accumulated in double in index order (one thread: a fixed order). */
WASM_EXPORT void sum_all_f32(const float *x, float *y, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += x[i];
  y[0] = (float)s;
}

/** y [outer, inner] = Σ over the middle axis of x [outer, len, inner], in double, in order. */
WASM_EXPORT void sum_axis_f32(const float *x, float *y, int outer, int len, int inner, int tid, int nthreads) {
  int lo, hi;
  thread_range(outer * inner, tid, nthreads, &lo, &hi);
  for (int j = lo; j < hi; j++) {
    int o = j / inner, i = j % inner;
    const float *base = x + (size_t)o * len * inner + i;
    double s = 0;
    for (int l = 0; l < len; l++) s += base[(size_t)l * inner];
    y[j] = (float)s;
  }
}

/** Fills y[0, n) with v (for `full`). */
WASM_EXPORT void fill_f32(float *y, float v, int n) {
  for (int i = 0; i < n; i++) y[i] = v;
}
