// The end of a pipeline in one pass: crop (zero padding outside the image), optional horizontal
// flip, and 8-bit HWC → float CHW through a per-channel 256-entry table (ToTensor + Normalize
// values precomputed in TypeScript, so the floats are the same as the separate steps give).
#pragma once
#include <cstdint>

namespace aximg {

struct CropSpec {
  int top, left, height, width;
  bool flip;
};

/**
 * out[c][y][x] = table[c*256 + src[top+y][left+x'][c]] with x' = x, or width-1-x when flipped;
 * table[c*256] (the value of a 0 pixel) where the source position is outside the image.
 */
void toTensorU8(const uint8_t* src, int srcW, int srcH, int channels, const CropSpec& crop, const float* table, float* out);

} // namespace aximg
