// The heavy kernels of the wasm backend (SGEMM, convolution, linear) and the blocked GEMM driver
// they share. Freestanding C for wasm32 + SIMD128; memory is owned by the TypeScript side.
//
// Calling convention (binding, see docs/ARCHITECTURE.md "WebAssembly kernels"):
// - pointers are byte offsets into the one linear memory; float buffers are row-major f32;
// - a parallel kernel takes (..., scratch, tid, nthreads) last: every thread calls it with the same
//   arguments and computes its own disjoint part of the output; `scratch` holds
//   NAME_scratch_bytes(..., nthreads) bytes (16-byte aligned), thread tid uses its own slice;
// - every output element is a sum in one fixed order that does not depend on nthreads, so results
//   are bitwise identical for any thread count;
// - a scratch size that would not fit in 32 bits is returned as 0xFFFFFFFF (-1 seen from JS), which
//   no allocator can satisfy.
#ifndef ALEXNET_KERNELS_H
#define ALEXNET_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT __attribute__((visibility("default")))

// ---- micro-kernel and cache blocking --------------------------------------------------------
// A 4×8 register tile (8 f32x4 accumulators + 2 B vectors + 1 broadcast A + 1 temporary fits V8's
// 15 usable XMM registers on x64 without spilling). KC×NR B panels stay in L1, MC×KC A blocks in L2.
#define MR 4
#define NR 8
#define KC 256
#define MC 128
#define NC 512

// a·b + c; one fused instruction in the relaxed build (see scripts/build_wasm.sh), mul+add otherwise.
#ifdef ALEXNET_RELAXED_SIMD
#define MADD(a, b, c) __builtin_wasm_fma_f32x4((a), (b), (c))
#else
#define MADD(a, b, c) wasm_f32x4_add((c), wasm_f32x4_mul((a), (b)))
#endif

/** Convolution geometry: the 14 int32 of src/backend/backend.ts's ConvGeometry, in that order. */
typedef struct {
  int32_t n, c, h, w, oc, kh, kw, oh, ow, sh, sw, ph, pw, groups;
} ConvGeom;

/**
 * A GEMM operand op(X)[row, col], read only through packing:
 *   OPD_MATRIX     X[row·ld + col]
 *   OPD_MATRIX_T   X[col·ld + row]
 *   OPD_IM2COL     the column matrix of one image/group of x: row = (ci, ky, kx), col = (oy, ox);
 *                  with ld > 0, of consecutive images ld floats apart: col = (image, oy, ox)
 *   OPD_IM2COL_T   its transpose: row = (oy, ox), col = (ci, ky, kx)
 *   OPD_IMAGES     output-shaped planes of consecutive images ld floats apart (gy of one group):
 *                  row = channel, col = (image, oy, ox)
 *   OPD_IM2COL_PADDED  OPD_IM2COL of one image/group read from its zero-padded copy (pad_image):
 *                  no bounds tests, and stride-1 panels that span two output rows are two loads
 *   OPD_PACKED     an A operand packed once ahead (pack_a_whole): its panels are read in place,
 *                  never packed again; ld = its rows rounded up to MR (A side only)
 * The im2col kinds are never materialised: the packing routines read x directly.
 */
typedef enum { OPD_MATRIX, OPD_MATRIX_T, OPD_IM2COL, OPD_IM2COL_T, OPD_IMAGES, OPD_IM2COL_PADDED, OPD_PACKED } OperandKind;

typedef struct {
  OperandKind kind;
  const float *p;
  int ld;
  const ConvGeom *g;
} Operand;

/** Floats of scratch one thread's gemm_range needs (packed A block + packed B block). */
#define GEMM_SCRATCH_FLOATS (MC * KC + KC * NC)

/**
 * C[i, j] (=, or += when `accumulate`) Σ_{k<K} op(A)[i, k] · op(B)[k, j] for i in [m0, m1),
 * j in [n0, n1); `c` points at C[m0, n0] and rows are ldc floats apart. The sum runs over k in KC
 * blocks in order, so it is the same whatever window a thread computes. `scratch` holds
 * GEMM_SCRATCH_FLOATS floats.
 */
void gemm_range(const Operand *a, const Operand *b, int k, int m0, int m1, int n0, int n1, float *c, int ldc,
                int accumulate, float *scratch);

/** Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row panels (per panel: kc steps of MR values, zero-padded). */
void pack_a(const Operand *a, int i0, int mc, int p0, int kc, float *dst);

/** The depth of gemm_range's k slices for a sum over k: equal slices of at most KC (363 → 182 + 181). */
static inline int k_slice(int k) {
  const int slices = (k + KC - 1) / KC;
  return (k + slices - 1) / slices;
}

/**
 * The whole of op(A) [m, k] packed as gemm_range packs it, once: for each k slice (k_slice), the
 * MR-row panels of all rows (m rounded up to MR, zero-padded), so that the panels of rows [i, i + mc)
 * of the slice starting at p are at dst + p·round_up(m, MR) + i·kc. Thread tid packs its share of
 * the (slice, MC-row block) pieces. Read back through an OPD_PACKED operand.
 */
void pack_a_whole(const Operand *a, int m, int k, float *dst, int tid, int nthreads);
/** Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels (per panel: kc steps of NR values, zero-padded). */
void pack_b(const Operand *b, int p0, int kc, int j0, int nc, float *dst);

/**
 * Floats of a zero-padded copy of c planes of the geometry's input ((h + 2·ph) × (w + 2·pw) each),
 * with PAD_SLACK floats on either side that the packing may read (and ignore) past its ends.
 */
#define PAD_SLACK 16
uint64_t padded_image_floats(const ConvGeom *g, int c);
/** Copies c planes of x (h × w each) into `dst` (padded_image_floats of them); returns the first plane. */
float *pad_image(const float *x, const ConvGeom *g, int c, float *dst);

/** Plain SGEMM export (row-major, C = op(A)·op(B) or C += ...), split over the rows and columns of C. */
EXPORT void sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                  float *c, int ldc, int accumulate, float *scratch, int tid, int nthreads);
EXPORT size_t sgemm_scratch_bytes(int m, int n, int k, int nthreads);

// ---- work split -------------------------------------------------------------------------------

/**
 * A grid of tasks over q independent problems × row chunks × column chunks of an m×n output.
 * Chunk sizes depend on the problem and the thread count only for balance: how the output is cut
 * never changes an element's sum.
 */
typedef struct {
  int q, m, n, mb, nb, mchunks, nchunks;
} Grid;

Grid grid_make(int q, int m, int n, int nthreads);
/** grid_make, but problems too few to share are always cut along their columns (for an A packed ahead). */
Grid grid_make_columns(int q, int m, int n, int nthreads);
static inline int grid_tasks(const Grid *g) { return g->q * g->mchunks * g->nchunks; }
/** Task t → problem index and the [m0, m1) × [n0, n1) window. */
void grid_task(const Grid *g, int t, int *q, int *m0, int *m1, int *n0, int *n1);
/** Thread tid's contiguous share [lo, hi) of `total` items. */
static inline void split_range(int total, int tid, int nthreads, int *lo, int *hi) {
  *lo = (int)((int64_t)total * tid / nthreads);
  *hi = (int)((int64_t)total * (tid + 1) / nthreads);
}

/** Bytes for `per_thread` floats on each of nthreads threads, saturated at 0xFFFFFFFF. */
size_t scratch_bytes_for(uint64_t per_thread_floats, int nthreads);
/** Thread tid's float slice of a scratch of per_thread floats each (rounded to 16 bytes). */
float *scratch_slice(float *scratch, uint64_t per_thread_floats, int tid);

/**
 * y[i, j] = y[i, j] + bias[i] (bias may be 0), then ReLU (v < 0 → 0, NaN kept) when `relu`, over
 * rows [m0, m1) and columns [n0, n1); y points at the window's corner (row m0, column n0).
 */
void bias_relu_rows(float *y, int ld, int m0, int m1, int n0, int n1, const float *bias, int relu);
/** y[i, j] = y[i, j] + bias[j] (bias may be 0), then ReLU as above; y points at the window's corner. */
void bias_relu_cols(float *y, int ld, int rows, int cols, const float *bias, int relu);
/** Σ of n floats in a fixed order (f32x4 lanes over blocks of 256, block sums in double). */
double sum_floats(const float *p, int n);

// ---- convolution (x [n, c, h, w], w [oc, c/groups, kh, kw], y [n, oc, oh, ow]) -----------------
/**
 * The forward; `packed_w` is w as conv2d_pack_weights left it, or 0 to pack w's panels on the fly
 * (the sums are the same bits either way).
 */
EXPORT void conv2d_forward(const float *x, const float *w, const float *packed_w, const float *b, float *y,
                           const ConvGeom *g, int relu, float *scratch, int tid, int nthreads);
/** Packs w for the forward (per group, pack_a_whole), into conv2d_packed_weights_bytes bytes. */
EXPORT void conv2d_pack_weights(const float *w, float *packed_w, const ConvGeom *g, int tid, int nthreads);
EXPORT size_t conv2d_packed_weights_bytes(const ConvGeom *g);
EXPORT void conv2d_backward_data(const float *gy, const float *w, float *gx, const ConvGeom *g, float *scratch,
                                 int tid, int nthreads);
EXPORT void conv2d_backward_weights(const float *gy, const float *x, float *gw, float *gb, const ConvGeom *g,
                                    float *scratch, int tid, int nthreads);
EXPORT size_t conv2d_forward_scratch_bytes(const ConvGeom *g, int nthreads);
EXPORT size_t conv2d_backward_data_scratch_bytes(const ConvGeom *g, int nthreads);
EXPORT size_t conv2d_backward_weights_scratch_bytes(const ConvGeom *g, int nthreads);

// ---- 3×3 and 5×5 stride-1 convolution by Winograd F(2×2, 3×3) / F(2×2, 5×5), inference ---------------
/** 1 when the geometry takes this path: 3×3 or 5×5, stride 1, groups 1, padding < kernel, a padded image ≤ 2^22 floats. */
EXPORT int conv2d_winograd_eligible(const ConvGeom *g);
/** The α² (16 or 36) transformed weight matrices U_ξν = (G·w·Gᵀ)_ξν, each packed as gemm_range's A. */
EXPORT void conv2d_winograd_pack_weights(const float *w, float *packed, float *scratch, const ConvGeom *g, int tid,
                                         int nthreads);
EXPORT size_t conv2d_winograd_weights_bytes(const ConvGeom *g);
EXPORT size_t conv2d_winograd_pack_scratch_bytes(const ConvGeom *g, int nthreads);
EXPORT void conv2d_winograd_forward(const float *x, const float *packed, const float *b, float *y, const ConvGeom *g,
                                    int relu, float *scratch, int tid, int nthreads);
EXPORT size_t conv2d_winograd_scratch_bytes(const ConvGeom *g, int nthreads);
/** 1 when none of the n floats is ±∞ or NaN. */
EXPORT int all_finite_f32(const float *x, int n);

// ---- linear (x [m, k], w [n, k], b [n], y [m, n]) ------------------------------------------------
EXPORT void linear_forward(const float *x, const float *w, const float *b, float *y, int m, int k, int n, int relu,
                           float *scratch, int tid, int nthreads);
EXPORT void linear_backward_data(const float *gy, const float *w, float *gx, int m, int k, int n, float *scratch,
                                 int tid, int nthreads);
EXPORT void linear_backward_weights(const float *gy, const float *x, float *gw, float *gb, int m, int k, int n,
                                    float *scratch, int tid, int nthreads);
EXPORT size_t linear_forward_scratch_bytes(int m, int k, int n, int nthreads);
EXPORT size_t linear_backward_data_scratch_bytes(int m, int k, int n, int nthreads);
EXPORT size_t linear_backward_weights_scratch_bytes(int m, int k, int n, int nthreads);

#endif
