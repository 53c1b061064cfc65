// Fully connected layer, x [m, k], w [n, k] (PyTorch's layout), b [n], y [m, n]:
//   forward          y = x · wᵀ + b (ReLU fused when asked); fewer than MR rows (batch 1 inference)
//                    take a GEMV path that streams w once with four rows' dot products at a time
//   backward data    gx [m, k] = gy · w
//   backward weights gw [n, k] = gyᵀ · x,  gb = Σ_rows gy (double)
// Threads split the output's columns (and rows when there are few columns); sums in a fixed order.
#include "kernels.h"

static double dot_lanes(v128_t s) {
  return ((double)wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) +
         ((double)wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
}

/** y[0..rows) = x · w[j..j+rows)ᵀ for up to four rows of w, one pass over them. */
static void dot_rows(const float *x, const float *w, int k, int rows, float *y) {
  const float *r0 = w, *r1 = rows > 1 ? w + k : w, *r2 = rows > 2 ? w + 2 * (size_t)k : w;
  const float *r3 = rows > 3 ? w + 3 * (size_t)k : w;
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    const v128_t xv = wasm_v128_load(x + i);
    s0 = MADD(xv, wasm_v128_load(r0 + i), s0);
    s1 = MADD(xv, wasm_v128_load(r1 + i), s1);
    s2 = MADD(xv, wasm_v128_load(r2 + i), s2);
    s3 = MADD(xv, wasm_v128_load(r3 + i), s3);
  }
  double d[4] = {dot_lanes(s0), dot_lanes(s1), dot_lanes(s2), dot_lanes(s3)};
  for (; i < k; i++) {
    d[0] += (double)x[i] * r0[i];
    d[1] += (double)x[i] * r1[i];
    d[2] += (double)x[i] * r2[i];
    d[3] += (double)x[i] * r3[i];
  }
  for (int r = 0; r < rows; r++) y[r] = (float)d[r];
}

/** Rows of x fewer than MR: each block of four rows of w is read once for all of them. */
static void forward_gemv(const float *x, const float *w, float *y, int m, int k, int n, int tid, int nthreads) {
  int b0, b1;
  split_range((n + 3) / 4, tid, nthreads, &b0, &b1);
  for (int blk = b0; blk < b1; blk++) {
    const int j = blk * 4, rows = n - j < 4 ? n - j : 4;
    for (int i = 0; i < m; i++) dot_rows(x + (size_t)i * k, w + (size_t)j * k, k, rows, y + (size_t)i * n + j);
  }
}

size_t linear_forward_scratch_bytes(int m, int k, int n, int nthreads) {
  return sgemm_scratch_bytes(m, n, k, nthreads);
}

void linear_forward(const float *x, const float *w, const float *b, float *y, int m, int k, int n, int relu,
                    float *scratch, int tid, int nthreads) {
  if (m < MR) {
    forward_gemv(x, w, y, m, k, n, tid, nthreads);
    if (b || relu) {
      int j0, j1;
      split_range((n + 3) / 4, tid, nthreads, &j0, &j1);
      j0 *= 4;
      j1 = j1 * 4 < n ? j1 * 4 : n;
      if (j1 > j0) bias_relu_cols(y + j0, n, m, j1 - j0, b ? b + j0 : 0, relu);
    }
    return;
  }
  const Operand a = {OPD_MATRIX, x, k, 0};
  const Operand bw = {OPD_MATRIX_T, w, k, 0};
  const Grid grid = grid_make(1, m, n, nthreads);
  float *s = scratch_slice(scratch, GEMM_SCRATCH_FLOATS, tid);
  int t0, t1;
  split_range(grid_tasks(&grid), tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    int q, m0, m1, n0, n1;
    grid_task(&grid, t, &q, &m0, &m1, &n0, &n1);
    float *yw = y + (size_t)m0 * n + n0;
    gemm_range(&a, &bw, k, m0, m1, n0, n1, yw, n, 0, s);
    if (b || relu) bias_relu_cols(yw, n, m1 - m0, n1 - n0, b ? b + n0 : 0, relu);
  }
}

size_t linear_backward_data_scratch_bytes(int m, int k, int n, int nthreads) {
  return sgemm_scratch_bytes(m, k, n, nthreads);
}

void linear_backward_data(const float *gy, const float *w, float *gx, int m, int k, int n, float *scratch, int tid,
                          int nthreads) {
  sgemm(0, 0, m, k, n, gy, n, w, k, gx, k, 0, scratch, tid, nthreads);
}

size_t linear_backward_weights_scratch_bytes(int m, int k, int n, int nthreads) {
  return sgemm_scratch_bytes(n, k, m, nthreads);
}

void linear_backward_weights(const float *gy, const float *x, float *gw, float *gb, int m, int k, int n,
                             float *scratch, int tid, int nthreads) {
  sgemm(1, 0, n, k, m, gy, n, x, k, gw, k, 0, scratch, tid, nthreads);
  if (gb) {
    int j0, j1;
    split_range(n, tid, nthreads, &j0, &j1);
    for (int j = j0; j < j1; j++) {
      double total = 0.0;
      for (int i = 0; i < m; i++) total += gy[(size_t)i * n + j];
      gb[j] = (float)total;
    }
  }
}
