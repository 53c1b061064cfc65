// Pillow 9's ImagingResample for 8-bit pixels, bilinear filter: per output position a window of
// inputs whose width grows with the downscale factor, normalised weights in 22-bit fixed point.
#include "resample.hpp"

#include <cmath>

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
template <int C>
void horizontalC(const Pixels& in, const Coeffs& k, int outW, Pixels& out) {
  for (int y = 0; y < in.height; y++) {
    const uint8_t* src = in.data.data() + static_cast<size_t>(y) * in.width * C;
    uint8_t* dst = out.data.data() + static_cast<size_t>(y) * outW * C;
    for (int xx = 0; xx < outW; xx++) {
      const int* w = k.weights.data() + static_cast<size_t>(xx) * k.ksize;
      const uint8_t* s = src + static_cast<size_t>(k.start[xx]) * C;
      int acc[C];
      for (int c = 0; c < C; c++) acc[c] = kHalf;
      for (int x = 0, n = k.count[xx]; x < n; x++) {
        for (int c = 0; c < C; c++) acc[c] += s[x * C + c] * w[x];
      }
      for (int c = 0; c < C; c++) dst[xx * C + c] = clip8(acc[c]);
    }
  }
}

void horizontal(const Pixels& in, const Coeffs& k, int outW, Pixels& out) {
  if (in.channels == 3) horizontalC<3>(in, k, outW, out);
  else horizontalC<1>(in, k, outW, out);
}

void vertical(const Pixels& in, const Coeffs& k, int outH, Pixels& out) {
  const size_t rowLen = static_cast<size_t>(in.width) * in.channels;
  std::vector<int> acc(rowLen);
  for (int yy = 0; yy < outH; yy++) {
    const int* w = k.weights.data() + static_cast<size_t>(yy) * k.ksize;
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int y = 0; y < k.count[yy]; y++) {
      const uint8_t* s = in.data.data() + static_cast<size_t>(k.start[yy] + y) * rowLen;
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
  const bool needH = outWidth != in.width;
  const bool needV = outHeight != in.height;
  if (!needH && !needV) return in;
  Pixels mid;
  const Pixels* src = &in;
  if (needH) {
    mid = blank(outWidth, in.height, in.channels);
    horizontal(in, coefficients(in.width, outWidth), outWidth, mid);
    src = &mid;
  }
  if (!needV) return mid;
  Pixels out = blank(src->width, outHeight, src->channels);
  vertical(*src, coefficients(src->height, outHeight), outHeight, out);
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
