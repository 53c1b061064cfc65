// The tile transforms of the Winograd convolution (conv_winograd.c): F(2×2, 3×3) and F(2×2, 5×5),
// input (V = Bᵀ·d·B) and output (y = Aᵀ·M·A + bias, ReLU), for one tile row of one image at a time.
#ifndef ALEXNET_WINOGRAD_H
#define ALEXNET_WINOGRAD_H

#include "kernels.h"

/** What the transforms need of the geometry: channels, the padded plane, the output plane, and
 *  the output channels [o0, o1) this thread writes. */
typedef struct {
  int c, oc, hp, wp, oh, ow, o0, o1;
} WinogradPlane;

/**
 * V_ξν[ci, j0 + j] (matrix ξν at v + ξν·c·ld, rows ld apart) of the tiles tx0 … tx0 + count − 1 of
 * tile row ty, read from the padded planes (c × hp × wp).
 */
void winograd_input_f2x3(const float *padded, const WinogradPlane *p, int ty, int tx0, int count, int j0, float *v,
                         int ld);
void winograd_input_f2x5(const float *padded, const WinogradPlane *p, int ty, int tx0, int count, int j0, float *v,
                         int ld);
/** y (channels [o0, o1) of oc × oh × ow) of the same tiles from M_ξν[o, j0 + j] (at m + ξν·oc·ld), + bias, ReLU. */
void winograd_output_f2x3(const float *m, int ld, const float *bias, int relu, const WinogradPlane *p, int ty, int tx0,
                          int count, int j0, float *y);
void winograd_output_f2x5(const float *m, int ld, const float *bias, int relu, const WinogradPlane *p, int ty, int tx0,
                          int count, int j0, float *y);

#endif
