// Pillow's bilinear resize for 8-bit images (ImagingResample with the triangle filter and
// antialiasing: 22-bit fixed-point weights, a horizontal then a vertical pass, each rounded and
// clipped), the same arithmetic as src/data/resample.ts, which torchvision's Resize calls on PIL images.
#pragma once
#include "jpeg_region.hpp"

namespace aximg {

/** Resizes interleaved pixels to outWidth × outHeight exactly as PIL's Image.resize(BILINEAR). */
Pixels resizeBilinear(const Pixels& in, int outWidth, int outHeight);

/** Grey to three equal channels (PIL's convert("RGB") from "L"). */
Pixels greyToRgb(const Pixels& in);

} // namespace aximg
