// Training kernels of the wasm backend: inverted dropout with the native backend's counter-based
// mask (splitmix64: element i kept when u = (mix(mix(seed) ^ i) >> 11) · 2⁻⁵³ ≥ p, so a seed
// gives the same mask on both backends) and one SGD step with PyTorch's rounding, as the
// reference backend's sgd.ts (scalars rounded to float32; add(x, alpha) one fused rounding),
// computed two elements at a time in f64x2 lanes (the same double operations, so the same bits).
#include <wasm_simd128.h>

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

/** The step's constants; `r` rounds a double to float32 and back, where PyTorch rounds. */
typedef struct {
  double negLr, momentum, keep, wd;
  int nesterov, first, hasBuf;
} Sgd;

/** One element (the tail, and the definition the vector loop follows exactly). */
static void sgd_one(float *param, const float *grad, float *buf, const Sgd *s) {
  double d = *grad;
  if (s->wd != 0) d = (float)(d + s->wd * (double)*param);
  if (s->hasBuf) {
    double b = s->first ? d : (double)(float)((double)(float)(s->momentum * (double)*buf) + s->keep * d);
    *buf = (float)b;
    d = s->nesterov ? (double)(float)(d + s->momentum * b) : b;
  }
  *param = (float)((double)*param + s->negLr * d);
}

static inline v128_t round_f32(v128_t d) { return wasm_f64x2_promote_low_f32x4(wasm_f32x4_demote_f64x2_zero(d)); }
static inline v128_t low_f64(v128_t f) { return wasm_f64x2_promote_low_f32x4(f); }
static inline v128_t high_f64(v128_t f) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(f, f, 2, 3, 0, 1)); }
static inline v128_t to_f32(v128_t lo, v128_t hi) {
  return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** Two elements in double lanes: the same operations as sgd_one, so the same bits. */
static inline void sgd_two(v128_t *p, v128_t g, v128_t *b, const Sgd *s) {
  v128_t d = g;
  if (s->wd != 0) d = round_f32(wasm_f64x2_add(d, wasm_f64x2_mul(wasm_f64x2_splat(s->wd), *p)));
  if (s->hasBuf) {
    v128_t m = wasm_f64x2_splat(s->momentum);
    v128_t nb = s->first ? d : round_f32(wasm_f64x2_add(round_f32(wasm_f64x2_mul(m, *b)), wasm_f64x2_mul(wasm_f64x2_splat(s->keep), d)));
    *b = nb;
    d = s->nesterov ? round_f32(wasm_f64x2_add(d, wasm_f64x2_mul(m, nb))) : nb;
  }
  *p = wasm_f64x2_add(*p, wasm_f64x2_mul(wasm_f64x2_splat(s->negLr), d));
}

/** One SGD step in place; buf may be 0 (no momentum). Scalars arrive already rounded to float32. */
WASM_EXPORT void sgd_step_f32(float *param, const float *grad, float *buf, int n, float negLr, float momentum, float keep, float wd,
                              int nesterov, int firstStep, int tid, int nthreads) {
  Sgd s = {negLr, momentum, keep, wd, nesterov, firstStep, buf != 0};
  int lo, hi;
  thread_range(n, tid, nthreads, &lo, &hi);
  int i = lo;
  for (; i + 4 <= hi; i += 4) {
    v128_t pv = wasm_v128_load(param + i), gv = wasm_v128_load(grad + i);
    v128_t bv = s.hasBuf ? wasm_v128_load(buf + i) : wasm_f32x4_splat(0);
    v128_t p0 = low_f64(pv), p1 = high_f64(pv), b0 = low_f64(bv), b1 = high_f64(bv);
    sgd_two(&p0, low_f64(gv), &b0, &s);
    sgd_two(&p1, high_f64(gv), &b1, &s);
    wasm_v128_store(param + i, to_f32(p0, p1));
    if (s.hasBuf) wasm_v128_store(buf + i, to_f32(b0, b1));
  }
  for (; i < hi; i++) sgd_one(param + i, grad + i, buf ? buf + i : 0, &s);
}
