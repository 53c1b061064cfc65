// 3×3 stride-1 convolution (groups 1) by Winograd's F(2×2, 3×3), for inference: each 2×2 block of
// outputs (a tile) comes from a 4×4 block of input, and the 9 multiply-adds per output and input
// channel of the direct method become 16 per tile (4 per output: 2.25× fewer), as 16 GEMMs
//   M_ξν [oc, tiles] = U_ξν [oc, ic] · V_ξν [ic, tiles]
// with U = G·g·Gᵀ the weights transformed once (conv2d_winograd_pack_weights: the backend keeps them
// with the weights, as the direct forward's packed panels) and V = Bᵀ·d·B the input tiles, then
// y = Aᵀ·M·A per tile (+ bias, ReLU). Threads split the tiles (of all images, in order): each
// transforms its own tiles, runs the 16 GEMMs on them and writes their outputs, so no barrier is
// needed and no thread packs what another packs. Every output is a fixed sequence of operations
// on its own tile's values, so results do not depend on the thread count. The transforms mix
// values that the direct sum keeps apart, so a non-finite input or weight would turn an infinity
// into NaN: the backend takes this path only for finite tensors (all_finite_f32).
#include "kernels.h"

// Tiles per GEMM: the columns of V_ξν and M_ξν (chunks of a thread's tiles), 8 panels of NR.
#define WG_CHUNK 64

static inline int min_int(int a, int b) { return a < b ? a : b; }

/** Rows of one packed U_ξν: the output channels rounded up to MR. */
static int wg_rows(const ConvGeom *g) { return (g->oc + MR - 1) / MR * MR; }

static int tiles_y(const ConvGeom *g) { return (g->oh + 1) / 2; }
static int tiles_x(const ConvGeom *g) { return (g->ow + 1) / 2; }

/** One image's input planes zero-padded to cover every tile: 2·tiles + 2 rows and columns. */
static int wg_plane_h(const ConvGeom *g) { return 2 * tiles_y(g) + 2; }
static int wg_plane_w(const ConvGeom *g) { return 2 * tiles_x(g) + 2; }

int conv2d_winograd_eligible(const ConvGeom *g) {
  return g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->groups == 1 && g->ph <= 2 && g->pw <= 2 &&
         (uint64_t)g->c * wg_plane_h(g) * wg_plane_w(g) <= (1u << 22);
}

size_t conv2d_winograd_weights_bytes(const ConvGeom *g) {
  const uint64_t bytes = 16ull * wg_rows(g) * (uint64_t)g->c * 4;
  return bytes > 0xFFFFFFFFull ? (size_t)0xFFFFFFFFu : (size_t)bytes;
}

size_t conv2d_winograd_pack_scratch_bytes(const ConvGeom *g, int nthreads) {
  return scratch_bytes_for((uint64_t)g->oc * g->c, nthreads);
}

// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]: row ξ of G·g for the three columns of a 3×3 filter g.
static void g_row(const float *f, int xi, double out[3]) {
  for (int b = 0; b < 3; b++) {
    const double f0 = f[b], f1 = f[3 + b], f2 = f[6 + b];
    out[b] = xi == 0 ? f0 : xi == 1 ? 0.5 * (f0 + f1 + f2) : xi == 2 ? 0.5 * (f0 - f1 + f2) : f2;
  }
}

static double g_col(const double r[3], int nu) {
  return nu == 0 ? r[0] : nu == 1 ? 0.5 * (r[0] + r[1] + r[2]) : nu == 2 ? 0.5 * (r[0] - r[1] + r[2]) : r[2];
}

void conv2d_winograd_pack_weights(const float *w, float *packed, float *scratch, const ConvGeom *g, int tid,
                                  int nthreads) {
  const int oc = g->oc, ic = g->c;
  float *u = scratch_slice(scratch, (uint64_t)oc * ic, tid);
  int e0, e1;
  split_range(16, tid, nthreads, &e0, &e1);
  for (int e = e0; e < e1; e++) {
    const int xi = e / 4, nu = e % 4;
    for (int o = 0; o < oc; o++) {
      for (int i = 0; i < ic; i++) {
        double r[3];
        g_row(w + ((size_t)o * ic + i) * 9, xi, r);
        u[(size_t)o * ic + i] = (float)g_col(r, nu);
      }
    }
    const Operand a = {OPD_MATRIX, u, ic, 0};
    pack_a_whole(&a, oc, ic, packed + (size_t)e * wg_rows(g) * ic, 0, 1);
  }
}

/** Floats of one thread's scratch: padded image, V and M of a chunk, the GEMM's panels. */
static uint64_t wg_scratch_floats(const ConvGeom *g) {
  return (uint64_t)g->c * wg_plane_h(g) * wg_plane_w(g) + 16ull * WG_CHUNK * ((uint64_t)g->c + g->oc) +
         GEMM_SCRATCH_FLOATS;
}

size_t conv2d_winograd_scratch_bytes(const ConvGeom *g, int nthreads) {
  return scratch_bytes_for(wg_scratch_floats(g), nthreads);
}

/** Image img's planes into `dst` (c × ph × pw, zeros around: the input at row ph, column pw). */
static void pad_planes(const float *x, const ConvGeom *g, float *dst) {
  const int hp = wg_plane_h(g), wp = wg_plane_w(g);
  for (int ci = 0; ci < g->c; ci++) {
    float *plane = dst + (size_t)ci * hp * wp;
    for (int i = 0; i < hp * wp; i++) plane[i] = 0.0f;
    for (int y = 0; y < g->h; y++) {
      const float *in = x + ((size_t)ci * g->h + y) * g->w;
      float *row = plane + (size_t)(y + g->ph) * wp + g->pw;
      for (int i = 0; i < g->w; i++) row[i] = in[i];
    }
  }
}

/** Bᵀ·x·B's column step on four values (Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]), on lanes. */
#define BT_STEP(x0, x1, x2, x3, o0, o1, o2, o3) \
  do {                                          \
    o0 = wasm_f32x4_sub(x0, x2);                \
    o1 = wasm_f32x4_add(x1, x2);                \
    o2 = wasm_f32x4_sub(x2, x1);                \
    o3 = wasm_f32x4_sub(x1, x3);                \
  } while (0)

/**
 * V_ξν[ci, j] for the tiles j of one tile row, tiles tx0 … tx0 + count − 1 (columns j0 …), of one
 * image: four tiles at a time on the lanes (window columns 2·tx + q gathered by even/odd
 * shuffles), the rest one at a time with the same operations in the same order (the same bits).
 */
static void input_transform_row(const float *padded, const ConvGeom *g, int ty, int tx0, int count, int j0,
                                float *v, int ld) {
  const int hp = wg_plane_h(g), wp = wg_plane_w(g);
  const size_t mat = (size_t)g->c * ld;
  for (int ci = 0; ci < g->c; ci++) {
    const float *window = padded + (size_t)ci * hp * wp + (size_t)ty * 2 * wp;
    float *out = v + (size_t)ci * ld + j0;
    int j = 0;
    for (; j + 4 <= count; j += 4) {
      v128_t d[4][4];  // d[k][q]: window row k, column q, of four tiles
      for (int k = 0; k < 4; k++) {
        const float *row = window + (size_t)k * wp + 2 * (tx0 + j);
        const v128_t a0 = wasm_v128_load(row), a1 = wasm_v128_load(row + 4);
        const v128_t b0 = wasm_v128_load(row + 2), b1 = wasm_v128_load(row + 6);
        d[k][0] = wasm_i32x4_shuffle(a0, a1, 0, 2, 4, 6);
        d[k][1] = wasm_i32x4_shuffle(a0, a1, 1, 3, 5, 7);
        d[k][2] = wasm_i32x4_shuffle(b0, b1, 0, 2, 4, 6);
        d[k][3] = wasm_i32x4_shuffle(b0, b1, 1, 3, 5, 7);
      }
      v128_t r[4][4];
      for (int q = 0; q < 4; q++) BT_STEP(d[0][q], d[1][q], d[2][q], d[3][q], r[0][q], r[1][q], r[2][q], r[3][q]);
      for (int p = 0; p < 4; p++) {
        v128_t o[4];
        BT_STEP(r[p][0], r[p][1], r[p][2], r[p][3], o[0], o[1], o[2], o[3]);
        for (int q = 0; q < 4; q++) wasm_v128_store(out + (p * 4 + q) * mat + j, o[q]);
      }
    }
    for (; j < count; j++) {
      const float *d = window + 2 * (tx0 + j);
      float r[4][4];
      for (int q = 0; q < 4; q++) {
        const float d0 = d[q], d1 = d[wp + q], d2 = d[2 * wp + q], d3 = d[3 * wp + q];
        r[0][q] = d0 - d2;
        r[1][q] = d1 + d2;
        r[2][q] = d2 - d1;
        r[3][q] = d1 - d3;
      }
      for (int p = 0; p < 4; p++) {
        out[(p * 4 + 0) * mat + j] = r[p][0] - r[p][2];
        out[(p * 4 + 1) * mat + j] = r[p][1] + r[p][2];
        out[(p * 4 + 2) * mat + j] = r[p][2] - r[p][1];
        out[(p * 4 + 3) * mat + j] = r[p][1] - r[p][3];
      }
    }
  }
}

/** + bias, then ReLU (v < 0 → 0; NaN and −0 kept), on lanes. */
static inline v128_t bias_relu4(v128_t v, const float *bias, v128_t b, int relu) {
  if (bias) v = wasm_f32x4_add(v, b);
  if (relu) v = wasm_v128_bitselect(wasm_f32x4_splat(0.0f), v, wasm_f32x4_lt(v, wasm_f32x4_splat(0.0f)));
  return v;
}

/**
 * y of the tiles of one tile row (tiles tx0 …, columns j0 … of M_ξν) of one image: Aᵀ·M·A with
 * Aᵀ = [1 1 1 0; 0 1 −1 −1], + bias, ReLU; four tiles at a time on the lanes where their eight
 * output columns are all inside the plane, the rest one at a time (the same operations).
 */
static void output_transform_row(const float *m, int ld, const float *bias, int relu, const ConvGeom *g, int ty,
                                 int tx0, int count, int j0, float *y) {
  const int oh = g->oh, ow = g->ow, oy = 2 * ty;
  const size_t mat = (size_t)g->oc * ld;
  for (int o = 0; o < g->oc; o++) {
    const float bo = bias ? bias[o] : 0.0f;
    const v128_t b4 = wasm_f32x4_splat(bo);
    float *plane = y + (size_t)o * oh * ow;
    const float *s = m + (size_t)o * ld + j0;
    int j = 0;
    for (; j + 4 <= count && 2 * (tx0 + j) + 8 <= ow; j += 4) {
      v128_t r[2][4];
      for (int q = 0; q < 4; q++) {
        const v128_t m0 = wasm_v128_load(s + q * mat + j), m1 = wasm_v128_load(s + (4 + q) * mat + j);
        const v128_t m2 = wasm_v128_load(s + (8 + q) * mat + j), m3 = wasm_v128_load(s + (12 + q) * mat + j);
        r[0][q] = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);
        r[1][q] = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);
      }
      for (int p = 0; p < 2 && oy + p < oh; p++) {
        const v128_t y0 = bias_relu4(wasm_f32x4_add(wasm_f32x4_add(r[p][0], r[p][1]), r[p][2]), bias, b4, relu);
        const v128_t y1 = bias_relu4(wasm_f32x4_sub(wasm_f32x4_sub(r[p][1], r[p][2]), r[p][3]), bias, b4, relu);
        float *row = plane + (size_t)(oy + p) * ow + 2 * (tx0 + j);
        wasm_v128_store(row, wasm_i32x4_shuffle(y0, y1, 0, 4, 1, 5));
        wasm_v128_store(row + 4, wasm_i32x4_shuffle(y0, y1, 2, 6, 3, 7));
      }
    }
    for (; j < count; j++) {
      float r[2][4];
      for (int q = 0; q < 4; q++) {
        const float m0 = s[q * mat + j], m1 = s[(4 + q) * mat + j], m2 = s[(8 + q) * mat + j];
        const float m3 = s[(12 + q) * mat + j];
        r[0][q] = m0 + m1 + m2;
        r[1][q] = m1 - m2 - m3;
      }
      const int ox = 2 * (tx0 + j);
      for (int p = 0; p < 2 && oy + p < oh; p++) {
        const float out[2] = {r[p][0] + r[p][1] + r[p][2], r[p][1] - r[p][2] - r[p][3]};
        for (int q = 0; q < 2 && ox + q < ow; q++) {
          float val = bias ? out[q] + bo : out[q];
          if (relu && val < 0.0f) val = 0.0f;
          plane[(size_t)(oy + p) * ow + ox + q] = val;
        }
      }
    }
  }
}

void conv2d_winograd_forward(const float *x, const float *packed, const float *b, float *y, const ConvGeom *g,
                             int relu, float *scratch, int tid, int nthreads) {
  const int per_image = tiles_y(g) * tiles_x(g), ic = g->c, oc = g->oc;
  float *padded = scratch_slice(scratch, wg_scratch_floats(g), tid);
  float *v = padded + (size_t)ic * wg_plane_h(g) * wg_plane_w(g);
  float *m = v + 16ull * WG_CHUNK * ic;
  float *s = m + 16ull * WG_CHUNK * oc;
  int t0, t1;
  split_range(g->n * per_image, tid, nthreads, &t0, &t1);
  int padded_img = -1;
  for (int t = t0; t < t1;) {
    const int img = t / per_image, first = t % per_image;
    const int count = min_int(min_int(WG_CHUNK, per_image - first), t1 - t);
    const int ld = (count + 3) & ~3;  // V and M as narrow as the chunk: less to keep in cache
    if (img != padded_img) pad_planes(x + (size_t)img * ic * g->h * g->w, g, padded);
    padded_img = img;
    for (int j = 0; j < count;) {  // the chunk's tiles, a tile row at a time
      const int t_img = first + j, ty = t_img / tiles_x(g), tx0 = t_img % tiles_x(g);
      const int run = min_int(count - j, tiles_x(g) - tx0);
      input_transform_row(padded, g, ty, tx0, run, j, v, ld);
      j += run;
    }
    for (int e = 0; e < 16; e++) {
      const Operand a = {OPD_PACKED, packed + (size_t)e * wg_rows(g) * ic, wg_rows(g), 0};
      const Operand bv = {OPD_MATRIX, v + (size_t)e * ic * ld, ld, 0};
      gemm_range(&a, &bv, ic, 0, oc, 0, count, m + (size_t)e * oc * ld, ld, 0, s);
    }
    for (int j = 0; j < count;) {
      const int t_img = first + j, ty = t_img / tiles_x(g), tx0 = t_img % tiles_x(g);
      const int run = min_int(count - j, tiles_x(g) - tx0);
      output_transform_row(m, ld, b, relu, g, ty, tx0, run, j, y + (size_t)img * oc * g->oh * g->ow);
      j += run;
    }
    t += count;
  }
}

int all_finite_f32(const float *x, int n) {
  v128_t acc = wasm_f32x4_splat(0.0f);  // x − x is 0 for a finite x, NaN for ±∞ and NaN
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    acc = wasm_f32x4_add(acc, wasm_f32x4_sub(v, v));
  }
  float tail = 0.0f;
  for (; i < n; i++) tail += x[i] - x[i];
  return wasm_i32x4_all_true(wasm_f32x4_eq(acc, acc)) && tail == tail;
}
