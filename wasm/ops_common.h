// Shared helpers of the wasm backend's small kernels (ops_*.c): the Math functions imported from
// JavaScript (exact Math.exp/log/pow, so results equal the reference backend's), the split of a
// range across the threads of a parallel call, and PyTorch's NaN-aware max/min.
#pragma once

#include <stddef.h>

double js_exp(double) __attribute__((import_module("env"), import_name("exp")));
double js_log(double) __attribute__((import_module("env"), import_name("log")));
double js_pow(double, double) __attribute__((import_module("env"), import_name("pow")));

/** The part [*lo, *hi) of [0, total) that thread tid of nthreads computes (contiguous, balanced). */
static inline void thread_range(int total, int tid, int nthreads, int *lo, int *hi) {
  if (nthreads < 1) nthreads = 1;
  long long t = total;
  *lo = (int)(t * tid / nthreads);
  *hi = (int)(t * (tid + 1) / nthreads);
}

static inline int is_nan(double v) { return v != v; }

/** Math.max semantics: NaN wins, +0 beats -0. */
static inline double js_max(double a, double b) {
  if (is_nan(a) || is_nan(b)) return __builtin_nan("");
  if (a > b) return a;
  if (b > a) return b;
  return __builtin_signbit(a) ? b : a;
}

/** Math.min semantics: NaN wins, -0 beats +0. */
static inline double js_min(double a, double b) {
  if (is_nan(a) || is_nan(b)) return __builtin_nan("");
  if (a < b) return a;
  if (b < a) return b;
  return __builtin_signbit(a) ? a : b;
}

/** Exported from the module (clang hides wasm symbols by default, whatever --export-dynamic says). */
#define WASM_EXPORT __attribute__((visibility("default")))
