// Training kernels of the wasm backend: inverted dropout with the native backend's counter-based
// mask (splitmix64: element i kept when u = (mix(mix(seed) ^ i) >> 11) · 2⁻⁵³ ≥ p, so a seed
// gives the same mask on both backends) and one SGD step with PyTorch's rounding, as the
// reference backend's sgd.ts (scalars rounded to float32; add(x, alpha) one fused rounding).
#include "ops_common.h"

typedef unsigned long long u64;

static u64 mix(u64 z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/** y = x · mask, mask[i] ∈ {0, keepScale}; the seed comes as two 32-bit halves. */
WASM_EXPORT void dropout_f32(const float *x, float *y, float *mask, int n, double p, float keepScale, unsigned seedLo, unsigned seedHi, int tid,
                 int nthreads) {
  u64 base = mix(((u64)seedHi << 32) | seedLo);
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) {
    double u = (double)(mix(base ^ (u64)i) >> 11) * (1.0 / 9007199254740992.0);
    float keep = u >= p ? keepScale : 0.f;
    mask[i] = keep;
    y[i] = x[i] * keep;
  }
}

/** One SGD step in place; buf may be 0 (no momentum). Scalars arrive already rounded to float32. */
WASM_EXPORT void sgd_step_f32(float *param, const float *grad, float *buf, int n, float negLr, float momentum, float keep, float wd, int nesterov,
                  int firstStep, int tid, int nthreads) {
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  for (int i = lo; i < hi; i++) {
    double d = grad[i];
    if (wd != 0) d = (float)(d + (double)wd * (double)param[i]);
    if (buf) {
      double b = firstStep ? d : (double)(float)((double)(float)((double)momentum * (double)buf[i]) + (double)keep * d);
      buf[i] = (float)b;
      d = nesterov ? (double)(float)(d + (double)momentum * b) : b;
    }
    param[i] = (float)((double)param[i] + (double)negLr * d);
  }
}
