// Crop + flip + table lookup from HWC bytes to CHW floats, row by row.
#include "to_tensor.hpp"

#include <algorithm>
#include <cstddef>

namespace aximg {

void toTensorU8(const uint8_t* src, int srcW, int srcH, int C, const CropSpec& k, const float* table, float* out) {
  const int H = k.height;
  const int W = k.width;
  // Output columns [x0, x1) read inside the image (before flipping).
  const int x0 = std::max(0, -k.left);
  const int x1 = std::min(W, srcW - k.left);
  for (int c = 0; c < C; c++) {
    const float* t = table + c * 256;
    const float pad = t[0];
    float* plane = out + static_cast<size_t>(c) * H * W;
    for (int y = 0; y < H; y++) {
      float* o = plane + static_cast<size_t>(y) * W;
      const int sy = k.top + y;
      if (sy < 0 || sy >= srcH || x1 <= x0) {
        std::fill(o, o + W, pad);
        continue;
      }
      const uint8_t* row = src + static_cast<size_t>(sy) * srcW * C + c; // column j at row[j * C]
      if (!k.flip) {
        std::fill(o, o + x0, pad);
        std::fill(o + x1, o + W, pad);
        for (int x = x0; x < x1; x++) o[x] = t[row[static_cast<ptrdiff_t>(k.left + x) * C]];
      } else {
        // Output x shows crop column W-1-x: valid for x in [W-x1, W-x0).
        const int f0 = W - x1;
        const int f1 = W - x0;
        std::fill(o, o + f0, pad);
        std::fill(o + f1, o + W, pad);
        for (int x = f0; x < f1; x++) o[x] = t[row[static_cast<ptrdiff_t>(k.left + W - 1 - x) * C]];
      }
    }
  }
}

} // namespace aximg
