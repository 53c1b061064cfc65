// Pillow's bilinear resize for 8-bit images (ImagingResample with the triangle filter and
// antialiasing: 22-bit fixed-point weights, a horizontal then a vertical pass, each rounded and
// clipped), the same arithmetic as src/data/resample.ts, which torchvision's Resize calls on PIL images.
#pragma once
#include "jpeg_region.hpp"

namespace aximg {

/** Resizes interleaved pixels to outWidth × outHeight exactly as PIL's Image.resize(BILINEAR). */
Pixels resizeBilinear(const Pixels& in, int outWidth, int outHeight);

/** A rectangle: columns [left, left + width), rows [top, top + height). */
struct Box {
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
};

/** The source rectangle that the output window `window` of resizing inWidth × inHeight to outWidth × outHeight reads. */
Box resizeSource(int inWidth, int inHeight, int outWidth, int outHeight, Box window);

/**
 * The window `window` of resizing an inWidth × inHeight image to outWidth × outHeight (PIL's
 * resize, then crop), from `src`: the source's pixels in the rectangle `at` (which must cover
 * resizeSource(...)). Each output pixel equals the whole resize's, bit for bit.
 */
Pixels resizeBilinearWindow(const Pixels& src, Box at, int inWidth, int inHeight, int outWidth, int outHeight, Box window);

/** Grey to three equal channels (PIL's convert("RGB") from "L"). */
Pixels greyToRgb(const Pixels& in);

} // namespace aximg
