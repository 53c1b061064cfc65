// What the GEMM-based kernels share besides the GEMM: how an output is cut into tasks for the
// threads, per-thread scratch slices, the fused bias+ReLU epilogue and fixed-order sums.
#include "kernels.h"

static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
static inline int round_up(int a, int b) { return ceil_div(a, b) * b; }

// Column chunks are cut before row chunks: convolutions pack B (the image) per task, and keeping
// every output channel in one task packs each image panel once.
#define MIN_NB 64
#define MIN_MB 32

Grid grid_make(int q, int m, int n, int nthreads) {
  Grid g = {q, m, n, round_up(m > 0 ? m : 1, MR), n < NC ? round_up(n > 0 ? n : 1, NR) : NC, 1, 1};
  const int target = nthreads > 1 ? 4 * nthreads : 1;
  for (;;) {
    g.mchunks = ceil_div(m > 0 ? m : 1, g.mb);
    g.nchunks = ceil_div(n > 0 ? n : 1, g.nb);
    if ((int64_t)q * g.mchunks * g.nchunks >= target) break;
    if (g.nb >= 2 * MIN_NB) {
      g.nb = round_up(ceil_div(g.nb, 2), NR);
    } else if (g.mb >= 2 * MIN_MB) {
      g.mb = round_up(ceil_div(g.mb, 2), MR);
    } else {
      break;
    }
  }
  return g;
}

void grid_task(const Grid *g, int t, int *q, int *m0, int *m1, int *n0, int *n1) {
  const int per_q = g->mchunks * g->nchunks;
  *q = t / per_q;
  const int r = t % per_q, mi = r / g->nchunks, ni = r % g->nchunks;
  *m0 = mi * g->mb;
  *m1 = *m0 + g->mb < g->m ? *m0 + g->mb : g->m;
  *n0 = ni * g->nb;
  *n1 = *n0 + g->nb < g->n ? *n0 + g->nb : g->n;
}

static uint64_t slice_floats(uint64_t per_thread_floats) { return (per_thread_floats + 3) & ~(uint64_t)3; }

size_t scratch_bytes_for(uint64_t per_thread_floats, int nthreads) {
  const uint64_t bytes = slice_floats(per_thread_floats) * 4 * (uint64_t)(nthreads > 0 ? nthreads : 1);
  return bytes > 0xFFFFFFFFull ? (size_t)0xFFFFFFFFu : (size_t)bytes;
}

float *scratch_slice(float *scratch, uint64_t per_thread_floats, int tid) {
  return scratch + (size_t)(slice_floats(per_thread_floats) * (uint64_t)tid);
}

void bias_relu_rows(float *y, int ld, int m0, int m1, int n0, int n1, const float *bias, int relu) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int i = m0; i < m1; i++) {
    float *row = y + (size_t)(i - m0) * ld;
    const float bv = bias ? bias[i] : 0.0f;
    const v128_t b4 = wasm_f32x4_splat(bv);
    int j = 0;
    for (; j + 4 <= n1 - n0; j += 4) {
      v128_t v = wasm_v128_load(row + j);
      if (bias) v = wasm_f32x4_add(v, b4);
      if (relu) v = wasm_v128_bitselect(zero, v, wasm_f32x4_lt(v, zero));
      wasm_v128_store(row + j, v);
    }
    for (; j < n1 - n0; j++) {
      float v = bias ? row[j] + bv : row[j];
      row[j] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

void bias_relu_cols(float *y, int ld, int rows, int cols, const float *bias, int relu) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < rows; i++) {
    float *row = y + (size_t)i * ld;
    int j = 0;
    for (; j + 4 <= cols; j += 4) {
      v128_t v = wasm_v128_load(row + j);
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + j));
      if (relu) v = wasm_v128_bitselect(zero, v, wasm_f32x4_lt(v, zero));
      wasm_v128_store(row + j, v);
    }
    for (; j < cols; j++) {
      float v = bias ? row[j] + bias[j] : row[j];
      row[j] = relu && v < 0.0f ? 0.0f : v;
    }
  }
}

static double lanes_sum(v128_t s) {
  return ((double)wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) +
         ((double)wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
}

// Blocks of 256 floats are summed in four f32x4 lanes, block sums and the tail in double.
double sum_floats(const float *p, int n) {
  double total = 0.0;
  int i = 0;
  while (i + 16 <= n) {
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    const int end = n - i >= 256 ? i + 256 : i + ((n - i) & ~15);
    for (; i < end; i += 16) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(p + i));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(p + i + 4));
      s2 = wasm_f32x4_add(s2, wasm_v128_load(p + i + 8));
      s3 = wasm_f32x4_add(s3, wasm_v128_load(p + i + 12));
    }
    total += lanes_sum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  }
  for (; i < n; i++) total += p[i];
  return total;
}
