// Small loops that keep NaN and infinities flowing as PyTorch does where oneDNN's kernels do not:
// ReLU (oneDNN's computes max(x, 0) with the operand order that turns NaN into 0, also as a fused
// post-op) and scans that tell whether a buffer holds NaN or infinities (oneDNN's max pooling
// skips NaN; its LRN keeps a running sum across channels that a NaN or inf poisons beyond the
// window). Loops run on physical buffers: blocked layouts' padding is 0, which every loop keeps.
// bf16 variants work on the raw 16-bit patterns (bf16 activations between layers, conv.cpp).
#pragma once

#include <cstdint>
#include <cstring>

namespace ax {

constexpr int64_t kParallelMin = 1 << 15;

/** y = x < 0 ? 0 : x (NaN stays NaN: the comparison is false), in place allowed. */
inline void reluLoop(const float *x, float *y, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.f ? 0.f : x[i];
}

/**
 * gx = y <= 0 ? 0 : gy: a NaN output passes its gradient, as PyTorch's threshold_backward does.
 * gy is loaded unconditionally so the select vectorises (a conditional load made GCC emit a
 * scalar branch that mispredicts on ReLU's random signs: 5 ns per element, BENCHMARKS.md).
 */
inline void reluBackwardLoop(const float *gy, const float *y, float *gx, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    float g = gy[i];
    gx[i] = y[i] <= 0.f ? 0.f : g;
  }
}

/** Whether x holds a NaN (branch-free: one vectorised pass). */
inline bool anyNaN(const float *x, int64_t n) {
  int found = 0;
#pragma omp parallel for simd reduction(| : found) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) found |= x[i] != x[i];
  return found != 0;
}

/** Whether x holds a NaN or an infinity (x − x is NaN exactly for those). */
inline bool anyNonFinite(const float *x, int64_t n) {
  int found = 0;
#pragma omp parallel for simd reduction(| : found) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    float d = x[i] - x[i];
    found |= d != d;
  }
  return found != 0;
}

// ---- bf16 (raw 16-bit patterns: sign, 8 exponent bits, 7 mantissa bits) ----------------------------

/** Whether the bf16 pattern v is a NaN (exponent all ones, mantissa non-zero). */
inline bool bf16IsNaN(uint16_t v) { return (v & 0x7fffu) > 0x7f80u; }

/** The bf16 pattern's value as f32 (exact). */
inline float bf16ToF32(uint16_t v) {
  uint32_t u = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/** f32 to bf16 rounded to nearest even, as oneDNN's reorders do (NaN stays a quiet NaN). */
inline uint16_t f32ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

/** ReLU on bf16: a negative (sign bit set, not NaN) becomes +0; NaN stays NaN. In place allowed. */
inline void reluLoopBf16(const uint16_t *x, uint16_t *y, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    uint16_t v = x[i];
    y[i] = (v & 0x8000u) && !bf16IsNaN(v) ? uint16_t(0) : v;
  }
}

/** gx = y <= 0 ? 0 : gy on bf16 (y ≤ 0: zero, or sign bit set and not NaN), branch-free. */
inline void reluBackwardLoopBf16(const uint16_t *gy, const uint16_t *y, uint16_t *gx, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    uint16_t v = y[i], g = gy[i];
    bool nonPositive = (v & 0x7fffu) == 0 || ((v & 0x8000u) && (v & 0x7fffu) <= 0x7f80u);
    gx[i] = nonPositive ? uint16_t(0) : g;
  }
}

/** Whether the bf16 buffer x holds a NaN. */
inline bool anyNaNBf16(const uint16_t *x, int64_t n) {
  int found = 0;
#pragma omp parallel for simd reduction(| : found) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) found |= (x[i] & 0x7fffu) > 0x7f80u;
  return found != 0;
}

/** Whether the bf16 buffer x holds a NaN or an infinity (exponent all ones). */
inline bool anyNonFiniteBf16(const uint16_t *x, int64_t n) {
  int found = 0;
#pragma omp parallel for simd reduction(| : found) if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) found |= (x[i] & 0x7f80u) == 0x7f80u;
  return found != 0;
}

} // namespace ax
