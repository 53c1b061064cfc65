// Small loops that keep NaN and infinities flowing as PyTorch does where oneDNN's kernels do not:
// ReLU (oneDNN's computes max(x, 0) with the operand order that turns NaN into 0, also as a fused
// post-op) and scans that tell whether a buffer holds NaN or infinities (oneDNN's max pooling
// skips NaN; its LRN keeps a running sum across channels that a NaN or inf poisons beyond the
// window). Loops run on physical buffers: blocked layouts' padding is 0, which every loop keeps.
#pragma once

#include <cstdint>

namespace ax {

constexpr int64_t kParallelMin = 1 << 15;

/** y = x < 0 ? 0 : x (NaN stays NaN: the comparison is false), in place allowed. */
inline void reluLoop(const float *x, float *y, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.f ? 0.f : x[i];
}

/** gx = y <= 0 ? 0 : gy: a NaN output passes its gradient, as PyTorch's threshold_backward does. */
inline void reluBackwardLoop(const float *gy, const float *y, float *gx, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) gx[i] = y[i] <= 0.f ? 0.f : gy[i];
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

} // namespace ax
