// 2-D convolution with groups on the blocked GEMM, one GEMM per (image, group), K = (c/groups)·kh·kw,
// P = oh·ow. The image side is an implicit im2col operand (packed straight from x, see gemm_pack.c);
// a 1×1, stride-1, unpadded kernel reads x as a plain matrix.
//   forward          y_g [oc/g, P] = w_g [oc/g, K] · im2col(x_g) [K, P], bias + ReLU on each finished tile;
//                    w_g's panels packed once ahead (conv2d_pack_weights, kept by the backend) or per task
//   backward data    col [K, P] = w_gᵀ · gy_g, computed a block of channels × columns at a time into
//                    scratch and scattered (col2im) into those channels' planes of gx
//   backward weights gw_g [oc/g, K] = Σ_images gy_g · im2col(x_g)ᵀ;  gb = Σ gy (double per channel)
// Small output planes (fewer than 64 pixels) put all images side by side as GEMM columns, in the
// forward and backward data, so that the 8-wide column panels are not mostly padding.
// Threads take disjoint tasks: forward (image, group, output window); backward data (image, group,
// block of input channels; all images of a group when planes are small), so col2im never writes
// another thread's plane; backward weights (group, window of gw), every image summed in order.
#include "kernels.h"

static inline int min_int(int a, int b) { return a < b ? a : b; }

static int is_pointwise(const ConvGeom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0;
}

/** The image side of one (image, group) as a GEMM operand: im2col(x), or its transpose. */
static Operand image_operand(const float *x, const ConvGeom *g, int transposed) {
  if (is_pointwise(g)) return (Operand){transposed ? OPD_MATRIX_T : OPD_MATRIX, x, g->h * g->w, g};
  return (Operand){transposed ? OPD_IM2COL_T : OPD_IM2COL, x, 0, g};
}

// ---- forward ------------------------------------------------------------------------------------

// Output planes smaller than this many pixels (alexnet-v1's 3×3 at 65×65 input) are computed with
// the images side by side as GEMM columns, so the 8-wide panels are not mostly padding; each window
// goes through a scratch buffer of at most BATCHED_ROWS × NC floats into y. Sums are unchanged.
#define BATCH_BELOW_PIXELS 64
#define BATCHED_ROWS 256

static int forward_batched(const ConvGeom *g) { return g->n > 1 && g->oh * g->ow < BATCH_BELOW_PIXELS; }

// The image panels are packed from a zero-padded copy of the task's image/group (no bounds tests)
// when that copy takes at most this many floats of each thread's scratch; larger images (far
// beyond AlexNet's 3×228×228) are packed from x itself, so that scratch stays bounded.
#define PADDED_MAX_FLOATS (1u << 22)

static int forward_padded(const ConvGeom *g) {
  return !is_pointwise(g) && padded_image_floats(g, g->c / g->groups) <= PADDED_MAX_FLOATS;
}

/** Per thread: the GEMM's panels, then the batched window or the padded copy of one image/group. */
static uint64_t forward_floats(const ConvGeom *g) {
  if (forward_batched(g)) return GEMM_SCRATCH_FLOATS + (uint64_t)BATCHED_ROWS * NC;
  return GEMM_SCRATCH_FLOATS + (forward_padded(g) ? padded_image_floats(g, g->c / g->groups) : 0);
}

size_t conv2d_forward_scratch_bytes(const ConvGeom *g, int nthreads) {
  return scratch_bytes_for(forward_floats(g), nthreads);
}

/** Rows of one group's packed weights: its output channels rounded up to MR. */
static int packed_rows(const ConvGeom *g) { return (g->oc / g->groups + MR - 1) / MR * MR; }

size_t conv2d_packed_weights_bytes(const ConvGeom *g) {
  const uint64_t floats = (uint64_t)g->groups * packed_rows(g) * (uint64_t)(g->c / g->groups * g->kh * g->kw);
  return floats * 4 > 0xFFFFFFFFull ? (size_t)0xFFFFFFFFu : (size_t)(floats * 4);
}

void conv2d_pack_weights(const float *w, float *packed_w, const ConvGeom *g, int tid, int nthreads) {
  const int ocg = g->oc / g->groups, kd = g->c / g->groups * g->kh * g->kw;
  int g0, g1;
  // Few groups (AlexNet has 1 or 2): the threads share each group's pieces instead.
  if (g->groups >= nthreads) {
    split_range(g->groups, tid, nthreads, &g0, &g1);
    tid = 0;
    nthreads = 1;
  } else {
    g0 = 0;
    g1 = g->groups;
  }
  for (int gi = g0; gi < g1; gi++) {
    const Operand a = {OPD_MATRIX, w + (size_t)gi * ocg * kd, kd, 0};
    pack_a_whole(&a, ocg, kd, packed_w + (size_t)gi * packed_rows(g) * kd, tid, nthreads);
  }
}

/** Group gi's weights as the forward's A operand: packed ahead when `packed_w` is given. */
static Operand weight_operand(const float *w, const float *packed_w, const ConvGeom *g, int gi) {
  const int kd = g->c / g->groups * g->kh * g->kw;
  if (packed_w) return (Operand){OPD_PACKED, packed_w + (size_t)gi * packed_rows(g) * kd, packed_rows(g), 0};
  return (Operand){OPD_MATRIX, w + (size_t)gi * (g->oc / g->groups) * kd, kd, 0};
}

static void forward_images_side_by_side(const float *x, const float *w, const float *packed_w, const float *b, float *y,
                                        const ConvGeom *g, int relu, float *scratch, int tid, int nthreads) {
  const int icg = g->c / g->groups, ocg = g->oc / g->groups, kd = icg * g->kh * g->kw, p = g->oh * g->ow;
  Grid grid = grid_make(g->groups, ocg, g->n * p, nthreads);
  if (grid.mb > BATCHED_ROWS) {
    grid.mb = BATCHED_ROWS;
    grid.mchunks = (ocg + BATCHED_ROWS - 1) / BATCHED_ROWS;
  }
  float *s = scratch_slice(scratch, forward_floats(g), tid);
  float *window = s + GEMM_SCRATCH_FLOATS;
  int t0, t1;
  split_range(grid_tasks(&grid), tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    int gi, m0, m1, n0, n1;
    grid_task(&grid, t, &gi, &m0, &m1, &n0, &n1);
    const int width = n1 - n0;
    const Operand a = weight_operand(w, packed_w, g, gi);
    const Operand bx = {OPD_IM2COL, x + (size_t)gi * icg * g->h * g->w, g->c * g->h * g->w, g};
    gemm_range(&a, &bx, kd, m0, m1, n0, n1, window, width, 0, s);
    if (b || relu) bias_relu_rows(window, width, m0, m1, n0, n1, b ? b + gi * ocg : 0, relu);
    for (int i = m0; i < m1; i++) {
      const float *src = window + (size_t)(i - m0) * width;
      int img = n0 / p, pp = n0 % p;
      for (int j = 0; j < width; j++) {
        y[((size_t)img * g->oc + gi * ocg + i) * p + pp] = src[j];
        if (++pp == p) {
          pp = 0;
          img++;
        }
      }
    }
  }
}

void conv2d_forward(const float *x, const float *w, const float *packed_w, const float *b, float *y,
                    const ConvGeom *g, int relu, float *scratch, int tid, int nthreads) {
  if (forward_batched(g)) {
    forward_images_side_by_side(x, w, packed_w, b, y, g, relu, scratch, tid, nthreads);
    return;
  }
  const int icg = g->c / g->groups, ocg = g->oc / g->groups, kd = icg * g->kh * g->kw, p = g->oh * g->ow;
  // Weights packed ahead: a piece of pixels costs no extra packing, so few images cut their pixels.
  const Grid grid = packed_w ? grid_make_columns(g->n * g->groups, ocg, p, nthreads)
                             : grid_make(g->n * g->groups, ocg, p, nthreads);
  float *s = scratch_slice(scratch, forward_floats(g), tid);
  const int use_padded = forward_padded(g);
  float *padded = 0;
  int padded_q = -1;  // the (image, group) whose padded copy `padded` holds
  int t0, t1;
  split_range(grid_tasks(&grid), tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    int q, m0, m1, n0, n1;
    grid_task(&grid, t, &q, &m0, &m1, &n0, &n1);
    const int img = q / g->groups, gi = q % g->groups;
    const float *xq = x + (size_t)(img * g->c + gi * icg) * g->h * g->w;
    const Operand a = weight_operand(w, packed_w, g, gi);
    Operand bx = image_operand(xq, g, 0);
    if (use_padded) {
      if (q != padded_q) padded = pad_image(xq, g, icg, s + GEMM_SCRATCH_FLOATS);
      padded_q = q;
      bx = (Operand){OPD_IM2COL_PADDED, padded, 0, g};
    }
    float *yw = y + (size_t)(img * g->oc + gi * ocg) * p + (size_t)m0 * p + n0;
    gemm_range(&a, &bx, kd, m0, m1, n0, n1, yw, p, 0, s);
    if (b || relu) bias_relu_rows(yw, p, m0, m1, n0, n1, b ? b + gi * ocg : 0, relu);
  }
}

// ---- backward data --------------------------------------------------------------------------------

// A task's column block is at most COL_FLOATS floats (1 MiB) of scratch, ROWS_TARGET rows high.
#define COL_FLOATS (256 * 1024)
#define ROWS_TARGET 512

/** Channels per task and columns per block of the column buffer (depends on geometry and thread count). */
typedef struct {
  int channels, cols;
} DataPlan;

/** Small output planes: one task covers all images of a group, their pixels side by side as columns. */
static int data_batched(const ConvGeom *g) { return forward_batched(g); }

static DataPlan data_plan(const ConvGeom *g, int nthreads) {
  const int icg = g->c / g->groups, khw = g->kh * g->kw;
  const int units = data_batched(g) ? g->groups : g->n * g->groups;
  const int columns = data_batched(g) ? g->n * g->oh * g->ow : g->oh * g->ow;
  int cc = ROWS_TARGET / khw;
  if (cc < 1) cc = 1;
  if (cc > icg) cc = icg;
  // The column blocks follow from the geometry alone: they set the order in which col2im adds into
  // gx, which must not change with the thread count. Threads only make the channel blocks smaller.
  int cols = (COL_FLOATS / (cc * khw)) / NR * NR;
  const int target = nthreads > 1 ? 4 * nthreads : 1;
  while (cc > 1 && (int64_t)units * ((icg + cc - 1) / cc) < target) cc = (cc + 1) / 2;
  if (cols < NR) cols = NR;
  const int columns_up = (columns + NR - 1) / NR * NR;
  if (cols > columns_up) cols = columns_up;
  return (DataPlan){cc, cols};
}

static uint64_t data_scratch_floats(const ConvGeom *g, DataPlan plan) {
  return GEMM_SCRATCH_FLOATS + (uint64_t)plan.channels * g->kh * g->kw * plan.cols;
}

size_t conv2d_backward_data_scratch_bytes(const ConvGeom *g, int nthreads) {
  if (is_pointwise(g)) return scratch_bytes_for(GEMM_SCRATCH_FLOATS, nthreads);
  return scratch_bytes_for(data_scratch_floats(g, data_plan(g, nthreads)), nthreads);
}

/**
 * gx planes of channels [c0, c1) += col rows (c0·kh·kw ...) for columns [j0, j0 + ncols) of one
 * image's pixels, or of consecutive images' pixels side by side (their planes image_stride apart).
 */
static void col2im_block(const float *col, int ldc, const ConvGeom *g, int c0, int c1, int j0, int ncols,
                         float *gx, int image_stride) {
  const int h = g->h, w = g->w, p = g->oh * g->ow;
  for (int ci = c0; ci < c1; ci++) {
    for (int ky = 0; ky < g->kh; ky++) {
      for (int kx = 0; kx < g->kw; kx++, col += ldc) {
        const int img = image_stride > 0 ? j0 / p : 0;
        float *plane = gx + (size_t)img * image_stride + (size_t)ci * h * w;
        int oy = (j0 - img * p) / g->ow, ox = (j0 - img * p) % g->ow;
        for (int j = 0; j < ncols; j++) {
          const int iy = oy * g->sh - g->ph + ky, ix = ox * g->sw - g->pw + kx;
          if ((unsigned)iy < (unsigned)h && (unsigned)ix < (unsigned)w) plane[(size_t)iy * w + ix] += col[j];
          if (++ox == g->ow) {
            ox = 0;
            if (++oy == g->oh) {
              oy = 0;
              plane += image_stride;
            }
          }
        }
      }
    }
  }
}

static void backward_data_pointwise(const float *gy, const float *w, float *gx, const ConvGeom *g, float *scratch,
                                    int tid, int nthreads) {
  const int icg = g->c / g->groups, ocg = g->oc / g->groups, p = g->h * g->w;
  const Grid grid = grid_make(g->n * g->groups, icg, p, nthreads);
  float *s = scratch_slice(scratch, GEMM_SCRATCH_FLOATS, tid);
  int t0, t1;
  split_range(grid_tasks(&grid), tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    int q, m0, m1, n0, n1;
    grid_task(&grid, t, &q, &m0, &m1, &n0, &n1);
    const int img = q / g->groups, gi = q % g->groups;
    const Operand a = {OPD_MATRIX_T, w + (size_t)gi * ocg * icg, icg, 0};
    const Operand b = {OPD_MATRIX, gy + (size_t)(img * g->oc + gi * ocg) * p, p, 0};
    float *c = gx + (size_t)(img * g->c + gi * icg) * p + (size_t)m0 * p + n0;
    gemm_range(&a, &b, ocg, m0, m1, n0, n1, c, p, 0, s);
  }
}

void conv2d_backward_data(const float *gy, const float *w, float *gx, const ConvGeom *g, float *scratch, int tid,
                          int nthreads) {
  if (is_pointwise(g)) {
    backward_data_pointwise(gy, w, gx, g, scratch, tid, nthreads);
    return;
  }
  const int icg = g->c / g->groups, ocg = g->oc / g->groups, khw = g->kh * g->kw;
  const int kd = icg * khw, p = g->oh * g->ow, plane = g->h * g->w;
  const int batched = data_batched(g);
  const int units = batched ? g->groups : g->n * g->groups, columns = batched ? g->n * p : p;
  const DataPlan plan = data_plan(g, nthreads);
  const int chunks = (icg + plan.channels - 1) / plan.channels;
  float *s = scratch_slice(scratch, data_scratch_floats(g, plan), tid);
  float *col = s + GEMM_SCRATCH_FLOATS;
  int t0, t1;
  split_range(units * chunks, tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    const int q = t / chunks, img = batched ? 0 : q / g->groups, gi = q % g->groups;
    const int c0 = (t % chunks) * plan.channels, c1 = min_int(icg, c0 + plan.channels);
    float *gxq = gx + (size_t)(img * g->c + gi * icg) * plane;
    for (int im = 0; im < (batched ? g->n : 1); im++) {
      float *planes = gxq + (size_t)im * g->c * plane;
      for (size_t i = (size_t)c0 * plane; i < (size_t)c1 * plane; i++) planes[i] = 0.0f;
    }
    const Operand a = {OPD_MATRIX_T, w + (size_t)gi * ocg * kd, kd, 0};
    const Operand b = batched ? (Operand){OPD_IMAGES, gy + (size_t)gi * ocg * p, g->oc * p, g}
                              : (Operand){OPD_MATRIX, gy + (size_t)(img * g->oc + gi * ocg) * p, p, 0};
    for (int j0 = 0; j0 < columns; j0 += plan.cols) {
      const int ncols = min_int(plan.cols, columns - j0);
      gemm_range(&a, &b, ocg, c0 * khw, c1 * khw, j0, j0 + ncols, col, plan.cols, 0, s);
      col2im_block(col, plan.cols, g, c0, c1, j0, ncols, gxq, batched ? g->c * plane : 0);
    }
  }
}

// ---- backward weights -----------------------------------------------------------------------------

size_t conv2d_backward_weights_scratch_bytes(const ConvGeom *g, int nthreads) {
  (void)g;
  return scratch_bytes_for(GEMM_SCRATCH_FLOATS, nthreads);
}

void conv2d_backward_weights(const float *gy, const float *x, float *gw, float *gb, const ConvGeom *g,
                             float *scratch, int tid, int nthreads) {
  const int icg = g->c / g->groups, ocg = g->oc / g->groups, kd = icg * g->kh * g->kw, p = g->oh * g->ow;
  const Grid grid = grid_make(g->groups, ocg, kd, nthreads);
  float *s = scratch_slice(scratch, GEMM_SCRATCH_FLOATS, tid);
  int t0, t1;
  split_range(grid_tasks(&grid), tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    int gi, m0, m1, n0, n1;
    grid_task(&grid, t, &gi, &m0, &m1, &n0, &n1);
    float *c = gw + (size_t)gi * ocg * kd + (size_t)m0 * kd + n0;
    if (g->n == 0) gemm_range(0, 0, 0, m0, m1, n0, n1, c, kd, 0, s);  // no images: zeros
    for (int img = 0; img < g->n; img++) {
      const Operand a = {OPD_MATRIX, gy + (size_t)(img * g->oc + gi * ocg) * p, p, 0};
      const Operand bx = image_operand(x + (size_t)(img * g->c + gi * icg) * g->h * g->w, g, 1);
      gemm_range(&a, &bx, p, m0, m1, n0, n1, c, kd, img > 0, s);
    }
  }
  if (gb) {
    int o0, o1;
    split_range(g->oc, tid, nthreads, &o0, &o1);
    for (int o = o0; o < o1; o++) {
      double total = 0.0;
      for (int img = 0; img < g->n; img++) total += sum_floats(gy + (size_t)(img * g->oc + o) * p, p);
      gb[o] = (float)total;
    }
  }
}
