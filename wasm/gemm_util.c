// What the GEMM-based kernels share besides the GEMM: how an output is cut into tasks for the
// threads, per-thread scratch slices, the fused bias+ReLU epilogue and fixed-order sums.
#include "kernels.h"

static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }
static inline int round_up(int a, int b) { return ceil_div(a, b) * b; }

static int gcd(int a, int b) {
  while (b != 0) {
    const int r = a % b;
    a = b;
    b = r;
  }
  return a;
}

// Many problems (a batch of images) are tasks enough: each is one task (column blocks of NC).
// Fewer than 4 tasks per thread: each problem is cut into equal pieces, as many as make the task
// count a multiple of the thread count (batch 1: one piece per thread), along its longer side.
// Every piece then re-packs the other operand, so that is the cheaper one to pack twice: for
// conv3-5 at batch 1 (384 or 256 channels × 169 pixels) the image panels, not the weights.
static Grid grid_cut(int q, int m, int n, int nthreads, int along_columns) {
  const int mm = m > 0 ? m : 1, nn = n > 0 ? n : 1;
  Grid g = {q, m, n, round_up(mm, MR), nn < NC ? round_up(nn, NR) : NC, 1, ceil_div(nn, NC)};
  const int target = nthreads > 1 ? 4 * nthreads : 1;
  if ((int64_t)q * g.nchunks >= target) return g;
  const int pieces = nthreads / gcd(q > 0 ? q : nthreads, nthreads);
  if (!along_columns && mm >= nn) {
    g.mb = round_up(ceil_div(mm, pieces), MR);
    g.nb = round_up(nn, NR);
  } else {
    g.nb = round_up(ceil_div(nn, pieces), NR);
  }
  g.mchunks = ceil_div(mm, g.mb);
  g.nchunks = ceil_div(nn, g.nb);
  return g;
}

Grid grid_make(int q, int m, int n, int nthreads) { return grid_cut(q, m, n, nthreads, 0); }

// With A packed ahead, cutting the columns packs nothing twice: each piece packs its own image panels.
Grid grid_make_columns(int q, int m, int n, int nthreads) { return grid_cut(q, m, n, nthreads, 1); }

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
