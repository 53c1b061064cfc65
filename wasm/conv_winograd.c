// 3×3 and 5×5 stride-1 convolutions (groups 1) by Winograd's F(2×2, 3×3) and F(2×2, 5×5), for
// inference: each 2×2 block of outputs (a tile) comes from an α×α block of input (α = 4, 6), and
// the 9 (25) multiply-adds per output and input channel of the direct method become α² per tile
// (2.25× and 2.78× fewer), as α² GEMMs
//   M_ξν [oc, tiles] = U_ξν [oc, ic] · V_ξν [ic, tiles]
// with U = G·g·Gᵀ the weights transformed once (conv2d_winograd_pack_weights: the backend keeps them
// with the weights, as the direct forward's packed panels) and V = Bᵀ·d·B the input tiles, then
// y = Aᵀ·M·A per tile (+ bias, ReLU); the transforms are in winograd_transforms.c. Threads split
// the tiles (of all images, in order): each transforms its own tiles, runs the α² GEMMs on them and
// writes their outputs, so no barrier is needed and no thread packs what another packs; one image
// of few tiles (13×13 outputs) is split by output channels instead (split_channels). Every output
// is a fixed sequence of operations on its own tile's values, so results do not depend on the
// thread count. The transforms mix
// values that the direct sum keeps apart, so a non-finite input or weight would turn an infinity
// into NaN: the backend takes this path only for finite tensors (all_finite_f32).
#include "kernels.h"

#include "winograd.h"

// Tiles per GEMM: the columns of V_ξν and M_ξν (chunks of a thread's tiles), whole panels of NR;
// narrower for α = 6, whose 36 matrices of M would not stay in L2 otherwise.
static int wg_chunk(const ConvGeom *g) { return g->kh == 3 ? 64 : 32; }
/** α, the tile's input side, and α² matrices. */
static int wg_alpha(const ConvGeom *g) { return g->kh + 1; }
static int wg_count(const ConvGeom *g) { return wg_alpha(g) * wg_alpha(g); }

static inline int min_int(int a, int b) { return a < b ? a : b; }

/** Rows of one packed U_ξν: the output channels rounded up to MR. */
static int wg_rows(const ConvGeom *g) { return (g->oc + MR - 1) / MR * MR; }

static int tiles_y(const ConvGeom *g) { return (g->oh + 1) / 2; }
static int tiles_x(const ConvGeom *g) { return (g->ow + 1) / 2; }

/** One image's input planes zero-padded to cover every tile: 2·tiles + α − 2 rows and columns. */
static int wg_plane_h(const ConvGeom *g) { return 2 * tiles_y(g) + wg_alpha(g) - 2; }
static int wg_plane_w(const ConvGeom *g) { return 2 * tiles_x(g) + wg_alpha(g) - 2; }

// Bounded scratch: the padded image and a chunk's V and M each within 2^22 floats (16 MiB) per
// thread; beyond (thousands of channels) the direct method runs.
int conv2d_winograd_eligible(const ConvGeom *g) {
  if (!((g->kh == 3 || g->kh == 5) && g->kw == g->kh && g->sh == 1 && g->sw == 1 && g->groups == 1 &&
        g->ph <= g->kh - 1 && g->pw <= g->kw - 1))
    return 0;
  const uint64_t chunk = (uint64_t)wg_count(g) * (wg_chunk(g) + 4) * ((uint64_t)g->c + g->oc);
  return (uint64_t)g->c * wg_plane_h(g) * wg_plane_w(g) <= (1u << 22) && chunk <= (1u << 22);
}

size_t conv2d_winograd_weights_bytes(const ConvGeom *g) {
  const uint64_t bytes = (uint64_t)wg_count(g) * wg_rows(g) * (uint64_t)g->c * 4;
  return bytes > 0xFFFFFFFFull ? (size_t)0xFFFFFFFFu : (size_t)bytes;
}

size_t conv2d_winograd_pack_scratch_bytes(const ConvGeom *g, int nthreads) {
  return scratch_bytes_for((uint64_t)g->oc * g->c, nthreads);
}

// G of F(2, 3) and of F(2, 5) (points 0, ±1, ±2, ∞): U_ξν = Σ_a Σ_b G[ξ][a]·g[a][b]·G[ν][b].
static const double G3[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G5[6][5] = {{1.0 / 4, 0, 0, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
                                {0, 0, 0, 0, 1}};

static double g_at(int r, int i, int j) { return r == 3 ? G3[i][j] : G5[i][j]; }

void conv2d_winograd_pack_weights(const float *w, float *packed, float *scratch, const ConvGeom *g, int tid,
                                  int nthreads) {
  const int oc = g->oc, ic = g->c, r = g->kh, alpha = wg_alpha(g);
  float *u = scratch_slice(scratch, (uint64_t)oc * ic, tid);
  int e0, e1;
  split_range(wg_count(g), tid, nthreads, &e0, &e1);
  for (int e = e0; e < e1; e++) {
    const int xi = e / alpha, nu = e % alpha;
    for (int o = 0; o < oc; o++) {
      for (int i = 0; i < ic; i++) {
        const float *f = w + ((size_t)o * ic + i) * r * r;
        double total = 0.0;
        for (int a = 0; a < r; a++) {
          double row = 0.0;  // (G·f)[ξ][b] summed against G[ν][b]
          for (int b = 0; b < r; b++) row += f[a * r + b] * g_at(r, nu, b);
          total += g_at(r, xi, a) * row;
        }
        u[(size_t)o * ic + i] = (float)total;
      }
    }
    const Operand a = {OPD_MATRIX, u, ic, 0};
    pack_a_whole(&a, oc, ic, packed + (size_t)e * wg_rows(g) * ic, 0, 1);
  }
}

/** Floats of one thread's scratch: padded image, V and M of a chunk, the GEMM's panels. */
static uint64_t wg_scratch_floats(const ConvGeom *g) {
  return (uint64_t)g->c * wg_plane_h(g) * wg_plane_w(g) + PAD_SLACK +
         (uint64_t)wg_count(g) * (wg_chunk(g) + 4) * ((uint64_t)g->c + g->oc) + GEMM_SCRATCH_FLOATS;
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

/**
 * One image whose tiles, split between the threads, would leave the slowest thread 10% more panels
 * of NR tiles than an even share (13×13 outputs: 49 tiles, 7 panels, 4 on one of two threads):
 * the threads split the output channels instead, each transforming every tile.
 */
static int split_channels(const ConvGeom *g, int nthreads) {
  if (g->n != 1 || nthreads < 2 || g->oc < nthreads * MR) return 0;
  const int tiles = tiles_y(g) * tiles_x(g), chunk = wg_chunk(g);
  const int share = (tiles + nthreads - 1) / nthreads;
  const int slowest = share / chunk * (chunk / NR) + (share % chunk + NR - 1) / NR;
  return 10 * slowest * nthreads >= 11 * ((tiles + NR - 1) / NR);
}

void conv2d_winograd_forward(const float *x, const float *packed, const float *b, float *y, const ConvGeom *g,
                             int relu, float *scratch, int tid, int nthreads) {
  const int per_image = tiles_y(g) * tiles_x(g), ic = g->c, oc = g->oc, count_e = wg_count(g);
  WinogradPlane plane = {g->c, g->oc, wg_plane_h(g), wg_plane_w(g), g->oh, g->ow, 0, g->oc};
  float *padded = scratch_slice(scratch, wg_scratch_floats(g), tid);
  float *v = padded + (size_t)ic * plane.hp * plane.wp + PAD_SLACK;  // slack: the last vector reads
  float *m = v + (size_t)count_e * (wg_chunk(g) + 4) * ic;
  float *s = m + (size_t)count_e * (wg_chunk(g) + 4) * oc;
  int t0 = 0, t1 = g->n * per_image;
  if (split_channels(g, nthreads)) {
    int b0, b1;  // blocks of MR channels: windows of the packed U start on MR rows
    split_range((oc + MR - 1) / MR, tid, nthreads, &b0, &b1);
    plane.o0 = b0 * MR;
    plane.o1 = min_int(oc, b1 * MR);
    if (plane.o0 >= plane.o1) return;
  } else {
    split_range(g->n * per_image, tid, nthreads, &t0, &t1);
  }
  int padded_img = -1;
  for (int t = t0; t < t1;) {
    const int img = t / per_image, first = t % per_image;
    const int count = min_int(min_int(wg_chunk(g), per_image - first), t1 - t);
    const int ld = (count + 3) & ~3;  // V and M as narrow as the chunk: less to keep in cache
    if (img != padded_img) pad_planes(x + (size_t)img * ic * g->h * g->w, g, padded);
    padded_img = img;
    for (int j = 0; j < count;) {  // the chunk's tiles, a tile row at a time
      const int t_img = first + j, ty = t_img / tiles_x(g), tx0 = t_img % tiles_x(g);
      const int run = min_int(count - j, tiles_x(g) - tx0);
      if (g->kh == 3) winograd_input_f2x3(padded, &plane, ty, tx0, run, j, v, ld);
      else winograd_input_f2x5(padded, &plane, ty, tx0, run, j, v, ld);
      j += run;
    }
    for (int e = 0; e < count_e; e++) {
      const Operand a = {OPD_PACKED, packed + (size_t)e * wg_rows(g) * ic, wg_rows(g), 0};
      const Operand bv = {OPD_MATRIX, v + (size_t)e * ic * ld, ld, 0};
      gemm_range(&a, &bv, ic, plane.o0, plane.o1, 0, count, m + ((size_t)e * oc + plane.o0) * ld, ld, 0, s);
    }
    float *yi = y + (size_t)img * oc * g->oh * g->ow;
    for (int j = 0; j < count;) {
      const int t_img = first + j, ty = t_img / tiles_x(g), tx0 = t_img % tiles_x(g);
      const int run = min_int(count - j, tiles_x(g) - tx0);
      if (g->kh == 3) winograd_output_f2x3(m, ld, b, relu, &plane, ty, tx0, run, j, yi);
      else winograd_output_f2x5(m, ld, b, relu, &plane, ty, tx0, run, j, yi);
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
