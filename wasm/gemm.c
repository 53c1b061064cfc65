// Cache-blocked SGEMM on SIMD128 (Goto/BLIS loop order): for each NC-wide column block and KC-deep
// slice, B is packed once into NR-column panels (L1-sized: KC×NR floats) and reused by every MC×KC
// block of packed A (L2-sized; an A packed ahead, OPD_PACKED, is read in place); a 4×8 micro-kernel keeps its 32 sums in 8 f32x4 registers over
// the whole KC slice. Each element is summed over k in ascending order, slice by slice (the slices
// depend on k only), whatever window of C the caller asks for: that is what makes the thread split
// invisible in the results.
#include "kernels.h"

static inline int min_int(int a, int b) { return a < b ? a : b; }

/** tile (or c, when the tile is full) = Σ_k a-panel[k]ᵀ · b-panel[k]; stored or added to c. */
static void micro_kernel(int kc, const float *restrict a, const float *restrict b, float *c, int ldc,
                         int accumulate) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int k = 0; k < kc; k++, a += MR, b += NR) {
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    v128_t ak = wasm_v128_load32_splat(a);
    c00 = MADD(ak, b0, c00);
    c01 = MADD(ak, b1, c01);
    ak = wasm_v128_load32_splat(a + 1);
    c10 = MADD(ak, b0, c10);
    c11 = MADD(ak, b1, c11);
    ak = wasm_v128_load32_splat(a + 2);
    c20 = MADD(ak, b0, c20);
    c21 = MADD(ak, b1, c21);
    ak = wasm_v128_load32_splat(a + 3);
    c30 = MADD(ak, b0, c30);
    c31 = MADD(ak, b1, c31);
  }
  const v128_t sums[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  for (int r = 0; r < MR; r++) {
    float *row = c + (size_t)r * ldc;
    if (accumulate) {
      wasm_v128_store(row, wasm_f32x4_add(wasm_v128_load(row), sums[r][0]));
      wasm_v128_store(row + 4, wasm_f32x4_add(wasm_v128_load(row + 4), sums[r][1]));
    } else {
      wasm_v128_store(row, sums[r][0]);
      wasm_v128_store(row + 4, sums[r][1]);
    }
  }
}

/** An edge tile (rows × cols of at most MR × NR): computed whole into a buffer, the valid part kept. */
static void edge_tile(int kc, const float *a, const float *b, float *c, int ldc, int rows, int cols,
                      int accumulate) {
  float tile[MR * NR] __attribute__((aligned(16)));
  micro_kernel(kc, a, b, tile, NR, 0);
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++) {
      float *dst = c + (size_t)r * ldc + q;
      *dst = accumulate ? *dst + tile[r * NR + q] : tile[r * NR + q];
    }
}

static void zero_window(float *c, int ldc, int rows, int cols) {
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++) c[(size_t)r * ldc + q] = 0.0f;
}

void gemm_range(const Operand *a, const Operand *b, int k, int m0, int m1, int n0, int n1, float *c, int ldc,
                int accumulate, float *scratch) {
  if (m1 <= m0 || n1 <= n0) return;
  if (k <= 0) {
    if (!accumulate) zero_window(c, ldc, m1 - m0, n1 - n0);
    return;
  }
  float *packed_a = scratch;
  float *packed_b = scratch + MC * KC;
  // Equal slices of at most KC (363 → 182 + 181, not 256 + 107): no short slice at the end.
  const int step = k_slice(k);
  for (int jc = n0; jc < n1; jc += NC) {
    const int nc = min_int(NC, n1 - jc);
    for (int pc = 0; pc < k; pc += step) {
      const int kc = min_int(step, k - pc);
      const int acc = accumulate || pc > 0;
      pack_b(b, pc, kc, jc, nc, packed_b);
      for (int ic = m0; ic < m1; ic += MC) {
        const int mc = min_int(MC, m1 - ic);
        // Packed ahead (ic is a multiple of MR: windows start on MR rows): the block is in place.
        const float *block_a = a->kind == OPD_PACKED ? a->p + (size_t)pc * a->ld + (size_t)ic * kc : packed_a;
        if (a->kind != OPD_PACKED) pack_a(a, ic, mc, pc, kc, packed_a);
        for (int jr = 0; jr < nc; jr += NR) {
          const int cols = min_int(NR, nc - jr);
          const float *pb = packed_b + (size_t)jr * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = min_int(MR, mc - ir);
            float *ct = c + (size_t)(ic - m0 + ir) * ldc + (jc - n0 + jr);
            const float *pa = block_a + (size_t)ir * kc;
            if (rows == MR && cols == NR) {
              micro_kernel(kc, pa, pb, ct, ldc, acc);
            } else {
              edge_tile(kc, pa, pb, ct, ldc, rows, cols, acc);
            }
          }
        }
      }
    }
  }
}

size_t sgemm_scratch_bytes(int m, int n, int k, int nthreads) {
  (void)m;
  (void)n;
  (void)k;
  return scratch_bytes_for(GEMM_SCRATCH_FLOATS, nthreads);
}

void sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
           int ldc, int accumulate, float *scratch, int tid, int nthreads) {
  const Operand oa = {trans_a ? OPD_MATRIX_T : OPD_MATRIX, a, lda, 0};
  const Operand ob = {trans_b ? OPD_MATRIX_T : OPD_MATRIX, b, ldb, 0};
  const Grid grid = grid_make(1, m, n, nthreads);
  float *s = scratch_slice(scratch, GEMM_SCRATCH_FLOATS, tid);
  int t0, t1;
  split_range(grid_tasks(&grid), tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    int q, i0, i1, j0, j1;
    grid_task(&grid, t, &q, &i0, &i1, &j0, &j1);
    gemm_range(&oa, &ob, k, i0, i1, j0, j1, c + (size_t)i0 * ldc + j0, ldc, accumulate, s);
  }
}
