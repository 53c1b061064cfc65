// Packing of GEMM operands into the panels the 4×8 micro-kernel reads (see gemm.c): A into
// MR-row panels, B into NR-column panels, zero-padded at the edges. Convolutions never build a
// column matrix: their B operand is packed straight from the image (implicit im2col), so memory
// traffic is one pass over x per panel and no scratch grows with the image.
#include "kernels.h"

// Marks a padded panel column: any ky/kx added to it stays negative, so the column reads zeros.
#define OUTSIDE (-(1 << 29))

static inline int min_int(int a, int b) { return a < b ? a : b; }

/** 4×4 transpose: out[q] = (r0[q], r1[q], r2[q], r3[q]). */
static inline void transpose4(v128_t r0, v128_t r1, v128_t r2, v128_t r3, v128_t out[4]) {
  const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
  const v128_t t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
  const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
  const v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  out[0] = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
  out[1] = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
  out[2] = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
  out[3] = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

/** MR rows that lie along k in memory (op(A) = X): transposed 4×4 at a time. */
static void pack_a_rows(const float *p, int ld, int i0, int rows, int p0, int kc, float *d) {
  const float *src[MR];
  for (int r = 0; r < MR; r++) src[r] = r < rows ? p + (size_t)(i0 + r) * ld + p0 : 0;
  int k = 0;
  if (rows == MR) {
    for (; k + 4 <= kc; k += 4) {
      v128_t t[4];
      transpose4(wasm_v128_load(src[0] + k), wasm_v128_load(src[1] + k), wasm_v128_load(src[2] + k),
                 wasm_v128_load(src[3] + k), t);
      for (int q = 0; q < 4; q++) wasm_v128_store(d + (k + q) * MR, t[q]);
    }
  }
  for (; k < kc; k++)
    for (int r = 0; r < MR; r++) d[k * MR + r] = r < rows ? src[r][k] : 0.0f;
}

void pack_a(const Operand *a, int i0, int mc, int p0, int kc, float *dst) {
  for (int ir = 0; ir < mc; ir += MR) {
    const int rows = min_int(MR, mc - ir);
    float *d = dst + (size_t)ir * kc;
    if (a->kind == OPD_MATRIX) {
      pack_a_rows(a->p, a->ld, i0 + ir, rows, p0, kc, d);
    } else {  // OPD_MATRIX_T: op(A)[i, k] = X[k, i], MR consecutive floats per k
      const float *src = a->p + (size_t)p0 * a->ld + i0 + ir;
      for (int k = 0; k < kc; k++, src += a->ld, d += MR) {
        if (rows == MR) {
          wasm_v128_store(d, wasm_v128_load(src));
        } else {
          for (int r = 0; r < MR; r++) d[r] = r < rows ? src[r] : 0.0f;
        }
      }
    }
  }
}

void pack_a_whole(const Operand *a, int m, int k, float *dst, int tid, int nthreads) {
  const int step = k_slice(k), slices = (k + step - 1) / step, blocks = (m + MC - 1) / MC;
  const size_t rows_up = (size_t)(m + MR - 1) / MR * MR;
  int t0, t1;
  split_range(slices * blocks, tid, nthreads, &t0, &t1);
  for (int t = t0; t < t1; t++) {
    const int p0 = t / blocks * step, i0 = t % blocks * MC;
    const int kc = min_int(step, k - p0);
    pack_a(a, i0, min_int(MC, m - i0), p0, kc, dst + (size_t)p0 * rows_up + (size_t)i0 * kc);
  }
}

/** op(B) = X [k, n]: NR consecutive floats per k. */
static void pack_b_matrix(const float *p, int ld, int p0, int kc, int j, int cols, float *d) {
  const float *src = p + (size_t)p0 * ld + j;
  for (int k = 0; k < kc; k++, src += ld, d += NR) {
    if (cols == NR) {
      wasm_v128_store(d, wasm_v128_load(src));
      wasm_v128_store(d + 4, wasm_v128_load(src + 4));
    } else {
      for (int q = 0; q < NR; q++) d[q] = q < cols ? src[q] : 0.0f;
    }
  }
}

/** op(B) = Xᵀ with X [n, k] (a linear layer's weight): NR rows of X transposed, 4×4 at a time. */
static void pack_b_matrix_t(const float *p, int ld, int p0, int kc, int j, int cols, float *d) {
  const float *src[NR];
  for (int q = 0; q < NR; q++) src[q] = q < cols ? p + (size_t)(j + q) * ld + p0 : 0;
  int k = 0;
  if (cols == NR) {
    for (; k + 4 <= kc; k += 4) {
      v128_t lo[4], hi[4];
      transpose4(wasm_v128_load(src[0] + k), wasm_v128_load(src[1] + k), wasm_v128_load(src[2] + k),
                 wasm_v128_load(src[3] + k), lo);
      transpose4(wasm_v128_load(src[4] + k), wasm_v128_load(src[5] + k), wasm_v128_load(src[6] + k),
                 wasm_v128_load(src[7] + k), hi);
      for (int q = 0; q < 4; q++) {
        wasm_v128_store(d + (k + q) * NR, lo[q]);
        wasm_v128_store(d + (k + q) * NR + 4, hi[q]);
      }
    }
  }
  for (; k < kc; k++)
    for (int q = 0; q < NR; q++) d[k * NR + q] = q < cols ? src[q][k] : 0.0f;
}

/** op(B) = im2col(x): row k = (ci, ky, kx), column p = (oy, ox), or (image, oy, ox) when image_stride > 0. */
static void pack_b_im2col(const float *x, int image_stride, const ConvGeom *g, int p0, int kc, int j, int cols,
                          float *d) {
  const int h = g->h, w = g->w, kw = g->kw, khw = g->kh * g->kw, plane_size = g->oh * g->ow;
  int iy0[NR], ix0[NR];
  size_t image[NR];
  for (int q = 0; q < NR; q++) {
    if (q < cols) {
      const int img = image_stride > 0 ? (j + q) / plane_size : 0;
      const int p = j + q - img * plane_size, oy = p / g->ow, ox = p - oy * g->ow;
      image[q] = (size_t)img * image_stride;
      iy0[q] = oy * g->sh - g->ph;
      ix0[q] = ox * g->sw - g->pw;
    } else {
      image[q] = 0;
      iy0[q] = OUTSIDE;
      ix0[q] = OUTSIDE;
    }
  }
  // All NR columns on one output row: one row test per k, and a plain copy when stride is 1.
  const int one_row = cols == NR && iy0[0] == iy0[NR - 1] && image[0] == image[NR - 1];
  int ci = p0 / khw, ky = (p0 % khw) / kw, kx = p0 % kw;
  for (int k = 0; k < kc; k++, d += NR) {
    const float *plane = x + (size_t)ci * h * w;
    const int iy = iy0[0] + ky;
    if (one_row && (unsigned)iy >= (unsigned)h) {
      wasm_v128_store(d, wasm_f32x4_splat(0.0f));
      wasm_v128_store(d + 4, wasm_f32x4_splat(0.0f));
    } else if (one_row && ix0[0] + kx >= 0 && ix0[NR - 1] + kx < w) {
      const float *row = plane + image[0] + (size_t)iy * w + kx;
      if (g->sw == 1) {
        wasm_v128_store(d, wasm_v128_load(row + ix0[0]));
        wasm_v128_store(d + 4, wasm_v128_load(row + ix0[0] + 4));
      } else {
        for (int q = 0; q < NR; q++) d[q] = row[ix0[q]];
      }
    } else {
      for (int q = 0; q < NR; q++) {
        const int y = iy0[q] + ky, xx = ix0[q] + kx;
        d[q] = (unsigned)y < (unsigned)h && (unsigned)xx < (unsigned)w ? plane[image[q] + (size_t)y * w + xx] : 0.0f;
      }
    }
    if (++kx == kw) {
      kx = 0;
      if (++ky == g->kh) {
        ky = 0;
        ci++;
      }
    }
  }
}

/**
 * op(B) = im2col(x) from x's zero-padded copy (planes of hp × wp): every read is in bounds, so no
 * tests. Stride-1 panels whose NR columns lie on one output row are two loads per k; those that
 * span two rows are four, the lanes of the second row blended in; stride-4 panels on one row take
 * whole window rows by 4×4 transposes. Other panels gather per column.
 */
static void pack_b_im2col_padded(const float *xp, const ConvGeom *g, int p0, int kc, int j, int cols, float *d) {
  const int wp = g->w + 2 * g->pw, plane = (g->h + 2 * g->ph) * wp, kw = g->kw, khw = g->kh * g->kw;
  int base[NR];
  for (int q = 0; q < NR; q++) {
    const int p = j + (q < cols ? q : 0), oy = p / g->ow, ox = p - oy * g->ow;
    base[q] = oy * g->sh * wp + ox * g->sw;
  }
  // Columns left on the first column's output row; a second row starts at column `first`.
  const int first = g->ow - j % g->ow;
  const int contiguous = cols == NR && g->sw == 1, one_row = contiguous && first >= NR;
  const int two_rows = contiguous && !one_row && NR - first <= g->ow;
  const int b0 = base[0], b1 = two_rows ? base[first] - first : 0;
  const v128_t lo = wasm_i32x4_make(first > 0 ? -1 : 0, first > 1 ? -1 : 0, first > 2 ? -1 : 0, first > 3 ? -1 : 0);
  const v128_t hi = wasm_i32x4_make(first > 4 ? -1 : 0, first > 5 ? -1 : 0, first > 6 ? -1 : 0, first > 7 ? -1 : 0);
  // Stride 4 (conv1) on one output row: column q's window row starts 4·q floats after column 0's.
  const int stride4 = cols == NR && g->sw == 4 && first >= NR;
  int ci = p0 / khw, ky = (p0 % khw) / kw, kx = p0 % kw;
  const float *src = xp + (size_t)ci * plane + ky * wp + kx;
  for (int k = 0; k < kc; k++, d += NR) {
    if (stride4 && kx == 0 && kc - k >= kw) {
      // A whole window row at once: the floats at c + l of the eight columns' rows are lane l of
      // the loads at c + 4·q, so four k (c … c + 3) are two 4×4 transposes.
      const float *r = src + b0;
      for (int c = 0; c < kw; c += 4) {
        v128_t left[4], right[4];
        transpose4(wasm_v128_load(r + c), wasm_v128_load(r + c + 4), wasm_v128_load(r + c + 8), wasm_v128_load(r + c + 12),
                   left);
        transpose4(wasm_v128_load(r + c + 16), wasm_v128_load(r + c + 20), wasm_v128_load(r + c + 24),
                   wasm_v128_load(r + c + 28), right);
        for (int l = 0; l < 4 && c + l < kw; l++) {
          wasm_v128_store(d + (c + l) * NR, left[l]);
          wasm_v128_store(d + (c + l) * NR + 4, right[l]);
        }
      }
      k += kw - 1;
      d += (kw - 1) * NR;
      kx = kw - 1;
      src += kw - 1;
    } else if (one_row) {
      wasm_v128_store(d, wasm_v128_load(src + b0));
      wasm_v128_store(d + 4, wasm_v128_load(src + b0 + 4));
    } else if (two_rows) {
      wasm_v128_store(d, wasm_v128_bitselect(wasm_v128_load(src + b0), wasm_v128_load(src + b1), lo));
      wasm_v128_store(d + 4, wasm_v128_bitselect(wasm_v128_load(src + b0 + 4), wasm_v128_load(src + b1 + 4), hi));
    } else {
      for (int q = 0; q < NR; q++) d[q] = q < cols ? src[base[q]] : 0.0f;
    }
    if (++kx < kw) {
      src++;
    } else {
      kx = 0;
      if (++ky == g->kh) {
        ky = 0;
        ci++;
      }
      src = xp + (size_t)ci * plane + ky * wp;
    }
  }
}

uint64_t padded_image_floats(const ConvGeom *g, int c) {
  return (uint64_t)c * (uint64_t)(g->h + 2 * g->ph) * (uint64_t)(g->w + 2 * g->pw) + 2 * PAD_SLACK;
}

float *pad_image(const float *x, const ConvGeom *g, int c, float *dst) {
  const int h = g->h, w = g->w, ph = g->ph, pw = g->pw, wp = w + 2 * pw, hp = h + 2 * ph;
  float *out = dst + PAD_SLACK;
  for (int i = 0; i < PAD_SLACK; i++) dst[i] = out[(size_t)c * hp * wp + i] = 0.0f;
  for (int ci = 0; ci < c; ci++) {
    for (int y = 0; y < hp; y++) {
      float *row = out + ((size_t)ci * hp + y) * wp;
      if (y < ph || y >= ph + h) {
        for (int i = 0; i < wp; i++) row[i] = 0.0f;
        continue;
      }
      const float *in = x + ((size_t)ci * h + (y - ph)) * w;
      for (int i = 0; i < pw; i++) row[i] = row[pw + w + i] = 0.0f;
      int i = 0;
      for (; i + 4 <= w; i += 4) wasm_v128_store(row + pw + i, wasm_v128_load(in + i));
      for (; i < w; i++) row[pw + i] = in[i];
    }
  }
  return out;
}

/** op(B) = im2col(x)ᵀ: row p = (oy, ox), column k = (ci, ky, kx). */
static void pack_b_im2col_t(const float *x, const ConvGeom *g, int p0, int kc, int j, int cols, float *d) {
  const int h = g->h, w = g->w, kw = g->kw, khw = g->kh * g->kw;
  const float *plane[NR];
  int ky[NR], kx[NR];
  for (int q = 0; q < NR; q++) {
    if (q < cols) {
      const int col = j + q, ci = col / khw;
      plane[q] = x + (size_t)ci * h * w;
      ky[q] = (col % khw) / kw;
      kx[q] = col % kw;
    } else {
      plane[q] = x;
      ky[q] = OUTSIDE;
      kx[q] = OUTSIDE;
    }
  }
  int oy = p0 / g->ow, ox = p0 % g->ow;
  for (int k = 0; k < kc; k++, d += NR) {
    const int iyb = oy * g->sh - g->ph, ixb = ox * g->sw - g->pw;
    for (int q = 0; q < NR; q++) {
      const int y = iyb + ky[q], xx = ixb + kx[q];
      d[q] = (unsigned)y < (unsigned)h && (unsigned)xx < (unsigned)w ? plane[q][(size_t)y * w + xx] : 0.0f;
    }
    if (++ox == g->ow) {
      ox = 0;
      oy++;
    }
  }
}

/** op(B)[k, (image, pixel)] = X[image·ld + k·P + pixel], P = oh·ow: channel rows of several images' planes. */
static void pack_b_images(const float *x, int ld, const ConvGeom *g, int p0, int kc, int j, int cols, float *d) {
  const int p = g->oh * g->ow;
  size_t at[NR];
  for (int q = 0; q < NR; q++) {
    const int img = (j + q) / p;
    at[q] = q < cols ? (size_t)img * ld + (size_t)(j + q - img * p) : 0;
  }
  for (int k = 0; k < kc; k++, d += NR) {
    const float *row = x + (size_t)(p0 + k) * p;
    for (int q = 0; q < NR; q++) d[q] = q < cols ? row[at[q]] : 0.0f;
  }
}

void pack_b(const Operand *b, int p0, int kc, int j0, int nc, float *dst) {
  for (int jr = 0; jr < nc; jr += NR) {
    const int cols = min_int(NR, nc - jr);
    float *d = dst + (size_t)jr * kc;
    switch (b->kind) {
      case OPD_MATRIX:
        pack_b_matrix(b->p, b->ld, p0, kc, j0 + jr, cols, d);
        break;
      case OPD_MATRIX_T:
        pack_b_matrix_t(b->p, b->ld, p0, kc, j0 + jr, cols, d);
        break;
      case OPD_IM2COL:
        pack_b_im2col(b->p, b->ld, b->g, p0, kc, j0 + jr, cols, d);
        break;
      case OPD_IM2COL_T:
        pack_b_im2col_t(b->p, b->g, p0, kc, j0 + jr, cols, d);
        break;
      case OPD_IMAGES:
        pack_b_images(b->p, b->ld, b->g, p0, kc, j0 + jr, cols, d);
        break;
      case OPD_IM2COL_PADDED:
        pack_b_im2col_padded(b->p, b->g, p0, kc, j0 + jr, cols, d);
        break;
      case OPD_PACKED:  // an A-side kind: no B operand is packed ahead
        break;
    }
  }
}
