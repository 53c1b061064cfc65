// The Winograd convolution's tile transforms (see winograd.h, conv_winograd.c). Each works on four
// tiles of a tile row at a time, one per SIMD lane (window columns 2·tx + q gathered with even/odd
// shuffles), and on the row's last tiles one at a time with the same operations in the same order,
// so a tile's values are the same bits whichever way it went (and whatever the thread count).
// F(2×2, 5×5)'s transforms multiply by small constants: contraction into fused multiply-adds
// (which only the SIMD path could get) is off, for the same reason.
#include "winograd.h"

#pragma clang fp contract(off)

// ---- F(2×2, 3×3) -----------------------------------------------------------------------------------------
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
void winograd_input_f2x3(const float *padded, const WinogradPlane *g, int ty, int tx0, int count, int j0, float *v,
                         int ld) {
  const int hp = g->hp, wp = g->wp;
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
void winograd_output_f2x3(const float *m, int ld, const float *bias, int relu, const WinogradPlane *g, int ty, int tx0,
                          int count, int j0, float *y) {
  const int oh = g->oh, ow = g->ow, oy = 2 * ty;
  const size_t mat = (size_t)g->oc * ld;
  for (int o = g->o0; o < g->o1; o++) {
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


// ---- F(2×2, 5×5): points 0, ±1, ±2, ∞ ------------------------------------------------------------------
// Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
// Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 1]; one grouping of the sums, written once for lanes and scalars.
#define BT6(ADD, SUB, MUL, x, o)                                                 \
  do {                                                                           \
    o[0] = ADD(SUB(MUL(4.0f, x[0]), MUL(5.0f, x[2])), x[4]);                     \
    o[1] = SUB(ADD(x[3], x[4]), MUL(4.0f, ADD(x[1], x[2])));                     \
    o[2] = ADD(MUL(4.0f, SUB(x[1], x[2])), SUB(x[4], x[3]));                     \
    o[3] = ADD(MUL(2.0f, SUB(x[3], x[1])), SUB(x[4], x[2]));                     \
    o[4] = ADD(MUL(2.0f, SUB(x[1], x[3])), SUB(x[4], x[2]));                     \
    o[5] = ADD(SUB(MUL(4.0f, x[1]), MUL(5.0f, x[3])), x[5]);                     \
  } while (0)
#define AT6(ADD, SUB, MUL, x, o)                                                 \
  do {                                                                           \
    o[0] = ADD(ADD(ADD(ADD(x[0], x[1]), x[2]), x[3]), x[4]);                     \
    o[1] = ADD(ADD(SUB(x[1], x[2]), MUL(2.0f, SUB(x[3], x[4]))), x[5]);          \
  } while (0)

#define V_ADD(a, b) wasm_f32x4_add((a), (b))
#define V_SUB(a, b) wasm_f32x4_sub((a), (b))
#define V_MUL(k, a) wasm_f32x4_mul(wasm_f32x4_splat(k), (a))
#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_MUL(k, a) ((k) * (a))

void winograd_input_f2x5(const float *padded, const WinogradPlane *g, int ty, int tx0, int count, int j0, float *v,
                         int ld) {
  const int hp = g->hp, wp = g->wp;
  const size_t mat = (size_t)g->c * ld;
  for (int ci = 0; ci < g->c; ci++) {
    const float *window = padded + (size_t)ci * hp * wp + (size_t)ty * 2 * wp;
    float *out = v + (size_t)ci * ld + j0;
    int j = 0;
    for (; j + 4 <= count; j += 4) {
      v128_t t[6][6];  // t[i][q] = (Bᵀ·d)[i][q] of four tiles
      for (int q = 0; q < 6; q++) {
        v128_t d[6];
        for (int k = 0; k < 6; k++) {
          const float *at = window + (size_t)k * wp + 2 * (tx0 + j) + (q & ~1);
          const v128_t a0 = wasm_v128_load(at), a1 = wasm_v128_load(at + 4);
          d[k] = q & 1 ? wasm_i32x4_shuffle(a0, a1, 1, 3, 5, 7) : wasm_i32x4_shuffle(a0, a1, 0, 2, 4, 6);
        }
        v128_t o[6];
        BT6(V_ADD, V_SUB, V_MUL, d, o);
        for (int i = 0; i < 6; i++) t[i][q] = o[i];
      }
      for (int i = 0; i < 6; i++) {
        v128_t o[6];
        BT6(V_ADD, V_SUB, V_MUL, t[i], o);
        for (int q = 0; q < 6; q++) wasm_v128_store(out + (i * 6 + q) * mat + j, o[q]);
      }
    }
    for (; j < count; j++) {
      const float *window_t = window + 2 * (tx0 + j);
      float t[6][6];
      for (int q = 0; q < 6; q++) {
        float d[6], o[6];
        for (int k = 0; k < 6; k++) d[k] = window_t[(size_t)k * wp + q];
        BT6(S_ADD, S_SUB, S_MUL, d, o);
        for (int i = 0; i < 6; i++) t[i][q] = o[i];
      }
      for (int i = 0; i < 6; i++) {
        float o[6];
        BT6(S_ADD, S_SUB, S_MUL, t[i], o);
        for (int q = 0; q < 6; q++) out[(i * 6 + q) * mat + j] = o[q];
      }
    }
  }
}

void winograd_output_f2x5(const float *m, int ld, const float *bias, int relu, const WinogradPlane *g, int ty, int tx0,
                          int count, int j0, float *y) {
  const int oh = g->oh, ow = g->ow, oy = 2 * ty;
  const size_t mat = (size_t)g->oc * ld;
  for (int o = g->o0; o < g->o1; o++) {
    const float bo = bias ? bias[o] : 0.0f;
    const v128_t b4 = wasm_f32x4_splat(bo);
    float *plane = y + (size_t)o * oh * ow;
    const float *s = m + (size_t)o * ld + j0;
    int j = 0;
    for (; j + 4 <= count && 2 * (tx0 + j) + 8 <= ow; j += 4) {
      v128_t r[2][6];  // (Aᵀ·M)[p][ν]
      for (int nu = 0; nu < 6; nu++) {
        v128_t x[6], out[2];
        for (int xi = 0; xi < 6; xi++) x[xi] = wasm_v128_load(s + (xi * 6 + nu) * mat + j);
        AT6(V_ADD, V_SUB, V_MUL, x, out);
        r[0][nu] = out[0];
        r[1][nu] = out[1];
      }
      for (int p = 0; p < 2 && oy + p < oh; p++) {
        v128_t out[2];
        AT6(V_ADD, V_SUB, V_MUL, r[p], out);
        const v128_t y0 = bias_relu4(out[0], bias, b4, relu), y1 = bias_relu4(out[1], bias, b4, relu);
        float *row = plane + (size_t)(oy + p) * ow + 2 * (tx0 + j);
        wasm_v128_store(row, wasm_i32x4_shuffle(y0, y1, 0, 4, 1, 5));
        wasm_v128_store(row + 4, wasm_i32x4_shuffle(y0, y1, 2, 6, 3, 7));
      }
    }
    for (; j < count; j++) {
      float r[2][6];
      for (int nu = 0; nu < 6; nu++) {
        float x[6], out[2];
        for (int xi = 0; xi < 6; xi++) x[xi] = s[(xi * 6 + nu) * mat + j];
        AT6(S_ADD, S_SUB, S_MUL, x, out);
        r[0][nu] = out[0];
        r[1][nu] = out[1];
      }
      const int ox = 2 * (tx0 + j);
      for (int p = 0; p < 2 && oy + p < oh; p++) {
        float out[2];
        AT6(S_ADD, S_SUB, S_MUL, r[p], out);
        for (int q = 0; q < 2 && ox + q < ow; q++) {
          float val = bias ? out[q] + bo : out[q];
          if (relu && val < 0.0f) val = 0.0f;
          plane[(size_t)(oy + p) * ow + ox + q] = val;
        }
      }
    }
  }
}
