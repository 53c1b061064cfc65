// One f32 row through a linear layer (batch 1): y [n] = w [n, k] · x [k] + b, optional ReLU.
// Every weight is read once for two flops, so the time is the time to stream w from memory: the
// rows are split in contiguous ranges over the OpenMP threads (one sequential stream each, which
// the hardware prefetchers follow), four rows at a time against the same x (which stays in L1/L2).
// The dot products are plain loops that the compiler vectorises for AVX-512, AVX2 + FMA or SSE2,
// picked at load time for the CPU (target_clones); measured faster than oneDNN's sgemm for
// AlexNet's fc6–fc8 at batch 1 (BENCHMARKS.md).
#include <algorithm>

#include "ops.hpp"

namespace ax {

namespace {

/** y[i] = w[i, :] · x for rows [r0, r1), four rows per pass over x. */
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void dotRows(const float *x, const float *w, int64_t k,
                                                                                   int64_t r0, int64_t r1, float *y) {
  int64_t i = r0;
  for (; i + 4 <= r1; i += 4) {
    const float *w0 = w + i * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t j = 0; j < k; j++) {
      s0 += x[j] * w0[j];
      s1 += x[j] * w1[j];
      s2 += x[j] * w2[j];
      s3 += x[j] * w3[j];
    }
    y[i] = s0;
    y[i + 1] = s1;
    y[i + 2] = s2;
    y[i + 3] = s3;
  }
  for (; i < r1; i++) {
    const float *w0 = w + i * k;
    float s0 = 0.f;
#pragma omp simd reduction(+ : s0)
    for (int64_t j = 0; j < k; j++) s0 += x[j] * w0[j];
    y[i] = s0;
  }
}

}  // namespace

void gemvF32(const float *x, const float *w, const float *bias, float *y, int64_t n, int64_t k, bool relu) {
  const int64_t blocks = (n + 3) / 4;
  // Below ~128 KiB of weights a second thread costs more to wake than it saves.
  const int team = n * k >= (int64_t(1) << 15) ? static_cast<int>(std::min<int64_t>(threads(), blocks)) : 1;
#pragma omp parallel num_threads(team)
  {
    const auto [r0, r1] = threadShare(n, 4);
    dotRows(x, w, k, r0, r1, y);
    for (int64_t i = r0; i < r1; i++) {
      float v = y[i] + (bias ? bias[i] : 0.f);
      y[i] = relu && v < 0.f ? 0.f : v;  // NaN stays NaN, as in PyTorch
    }
  }
}

}  // namespace ax
