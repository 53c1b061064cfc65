// Pillow 9's ImagingResample for 8-bit pixels, bilinear filter: per output position a window of
// inputs whose width grows with the downscale factor, normalised weights in 22-bit fixed point.
// A window of the output (a centre crop after the resize) is computed alone, from only the source
// rows and columns it reads: each of its pixels by the same sums as in the whole resize.
#include "resample.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace aximg {
namespace {

constexpr int kPrecisionBits = 22;
constexpr int kHalf = 1 << (kPrecisionBits - 1);

struct Coeffs {
  std::vector<int> start;
  std::vector<int> count;
  std::vector<int> weights;
  int ksize = 0;
};

double triangle(double x) {
  const double a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

// precompute_coeffs + normalize_coeffs_8bpc (support 1 for the bilinear filter).
Coeffs coefficients(int inSize, int outSize) {
  const double scale = static_cast<double>(inSize) / outSize;
  const double filterScale = scale < 1 ? 1 : scale;
  const double support = filterScale;
  Coeffs k;
  k.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  k.start.resize(outSize);
  k.count.resize(outSize);
  k.weights.assign(static_cast<size_t>(outSize) * k.ksize, 0);
  std::vector<double> pre(k.ksize);
  const double ss = 1 / filterScale;
  for (int xx = 0; xx < outSize; xx++) {
    const double center = (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; x++) {
      pre[x] = triangle((x + xmin - center + 0.5) * ss);
      ww += pre[x];
    }
    for (int x = 0; x < xmax; x++) {
      const double w = ww != 0 ? pre[x] / ww : pre[x];
      k.weights[static_cast<size_t>(xx) * k.ksize + x] = w < 0 ? static_cast<int>(-0.5 + w * (1 << kPrecisionBits)) : static_cast<int>(0.5 + w * (1 << kPrecisionBits));
    }
    k.start[xx] = xmin;
    k.count[xx] = xmax;
  }
  return k;
}

inline uint8_t clip8(int ss) {
  if (ss >= (1 << 30)) return 255;
  if (ss <= 0) return 0;
  return static_cast<uint8_t>(ss >> kPrecisionBits);
}

// Sums stay below 2^31: weights sum to 2^22 and samples are at most 255.
// Output columns [x0, x0 + out.width) of the coefficients for out.height rows of `in` from row
// inRow on; `in` holds source columns from inX0 on.
template <int C>
void horizontalC(const Pixels& in, int inRow, int inX0, const Coeffs& k, int x0, Pixels& out) {
  const int outW = out.width;
  for (int y = 0; y < out.height; y++) {
    const uint8_t* src = in.data.data() + static_cast<size_t>(inRow + y) * in.width * C;
    uint8_t* dst = out.data.data() + static_cast<size_t>(y) * outW * C;
    for (int xx = 0; xx < outW; xx++) {
      const int* w = k.weights.data() + static_cast<size_t>(x0 + xx) * k.ksize;
      const uint8_t* s = src + static_cast<size_t>(k.start[x0 + xx] - inX0) * C;
      int acc[C];
      for (int c = 0; c < C; c++) acc[c] = kHalf;
      for (int x = 0, n = k.count[x0 + xx]; x < n; x++) {
        for (int c = 0; c < C; c++) acc[c] += s[x * C + c] * w[x];
      }
      for (int c = 0; c < C; c++) dst[xx * C + c] = clip8(acc[c]);
    }
  }
}

void horizontal(const Pixels& in, int inRow, int inX0, const Coeffs& k, int x0, Pixels& out) {
  if (in.channels == 3) horizontalC<3>(in, inRow, inX0, k, x0, out);
  else horizontalC<1>(in, inRow, inX0, k, x0, out);
}

// Output rows [y0, y0 + out.height) of the coefficients; `in` holds source rows from inY0 on.
void vertical(const Pixels& in, int inY0, const Coeffs& k, int y0, Pixels& out) {
  const size_t rowLen = static_cast<size_t>(in.width) * in.channels;
  std::vector<int> acc(rowLen);
  for (int yy = 0; yy < out.height; yy++) {
    const int* w = k.weights.data() + static_cast<size_t>(y0 + yy) * k.ksize;
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int y = 0; y < k.count[y0 + yy]; y++) {
      const uint8_t* s = in.data.data() + static_cast<size_t>(k.start[y0 + yy] - inY0 + y) * rowLen;
      const int wy = w[y];
      for (size_t i = 0; i < rowLen; i++) acc[i] += s[i] * wy;
    }
    uint8_t* dst = out.data.data() + static_cast<size_t>(yy) * rowLen;
    for (size_t i = 0; i < rowLen; i++) dst[i] = clip8(acc[i]);
  }
}

Pixels blank(int width, int height, int channels) {
  Pixels p;
  p.width = width;
  p.height = height;
  p.channels = channels;
  p.data.resize(static_cast<size_t>(width) * height * channels);
  return p;
}

} // namespace

Pixels resizeBilinear(const Pixels& in, int outWidth, int outHeight) {
  return resizeBilinearWindow(in, {0, 0, in.width, in.height}, in.width, in.height, outWidth, outHeight, {0, 0, outWidth, outHeight});
}

namespace {

// The source span [first, last) that outputs [o0, o0 + n) of `k` read (identity when not resized).
void span(const Coeffs* k, int o0, int n, int& first, int& last) {
  if (!k) {
    first = o0;
    last = o0 + n;
    return;
  }
  first = k->start[o0];
  last = first;
  for (int o = o0; o < o0 + n; o++) {
    first = std::min(first, k->start[o]);
    last = std::max(last, k->start[o] + k->count[o]);
  }
}

} // namespace

Box resizeSource(int inWidth, int inHeight, int outWidth, int outHeight, Box window) {
  const Coeffs kh = outWidth != inWidth ? coefficients(inWidth, outWidth) : Coeffs{};
  const Coeffs kv = outHeight != inHeight ? coefficients(inHeight, outHeight) : Coeffs{};
  int x0, x1, y0, y1;
  span(outWidth != inWidth ? &kh : nullptr, window.left, window.width, x0, x1);
  span(outHeight != inHeight ? &kv : nullptr, window.top, window.height, y0, y1);
  return {x0, y0, x1 - x0, y1 - y0};
}

Pixels resizeBilinearWindow(const Pixels& src, Box at, int inWidth, int inHeight, int outWidth, int outHeight, Box window) {
  const bool needH = outWidth != inWidth;
  const bool needV = outHeight != inHeight;
  const Coeffs kh = needH ? coefficients(inWidth, outWidth) : Coeffs{};
  const Coeffs kv = needV ? coefficients(inHeight, outHeight) : Coeffs{};
  int rx0, rx1, ry0, ry1;
  span(needH ? &kh : nullptr, window.left, window.width, rx0, rx1);
  span(needV ? &kv : nullptr, window.top, window.height, ry0, ry1);
  if (rx0 < at.left || ry0 < at.top || rx1 > at.left + src.width || ry1 > at.top + src.height) {
    throw std::invalid_argument("resizeBilinearWindow: the source region does not cover the window");
  }
  const int C = src.channels;
  // The source rows the vertical pass reads, their columns either resized (horizontal pass) or cut.
  Pixels rows = blank(window.width, ry1 - ry0, C);
  if (needH) {
    horizontal(src, ry0 - at.top, at.left, kh, window.left, rows);
  } else {
    for (int y = ry0; y < ry1; y++) {
      const uint8_t* from = src.data.data() + (static_cast<size_t>(y - at.top) * src.width + (window.left - at.left)) * C;
      std::copy(from, from + static_cast<size_t>(window.width) * C, rows.data.data() + static_cast<size_t>(y - ry0) * window.width * C);
    }
  }
  if (!needV) return rows;
  Pixels out = blank(window.width, window.height, C);
  vertical(rows, ry0, kv, window.top, out);
  return out;
}

Pixels greyToRgb(const Pixels& in) {
  if (in.channels != 1) return in;
  Pixels out = blank(in.width, in.height, 3);
  for (size_t i = 0; i < in.data.size(); i++) {
    out.data[i * 3] = out.data[i * 3 + 1] = out.data[i * 3 + 2] = in.data[i];
  }
  return out;
}

} // namespace aximg
