// Decoding part of a baseline or progressive JPEG with libjpeg-turbo (the library PIL uses), so
// that the pixels inside the region are exactly those a full decode gives.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace aximg {

/** A JPEG libjpeg refused (corrupt, truncated, unsupported); what() is libjpeg's message. */
struct JpegError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/** Rows × columns × channels (1: grey, 3: RGB) of the region [x0, x0+width) × [y0, y0+height). */
struct Pixels {
  std::vector<uint8_t> data;
  int width = 0;
  int height = 0;
  int channels = 0;
};

struct JpegHeader {
  int width = 0;
  int height = 0;
  /** 1 (grey) or 3 (YCbCr/RGB); 4 (CMYK/YCCK) is left to the caller's other decoder. */
  int components = 0;
};

JpegHeader readJpegHeader(const uint8_t* bytes, size_t size);

/**
 * Decodes the columns [x0, x1) and rows [y0, y1) of the image. Only the iMCU rows up to y1 are
 * entropy-decoded and only the iMCU columns near [x0, x1) go through IDCT and colour conversion;
 * a margin keeps chroma upsampling at the region's edges identical to a full decode's.
 * A premature end of data inside what is decoded is an error (PIL refuses truncated files).
 * With scaleDenom 2, 4 or 8 the IDCT shrinks the image by that factor while decoding (libjpeg's
 * DCT scaling: a fraction of the memory and time, no longer PIL's exact pixels) and the region,
 * given in full-size coordinates, is returned at the reduced size.
 */
Pixels decodeJpegRegion(const uint8_t* bytes, size_t size, int x0, int y0, int x1, int y1, int scaleDenom = 1);

} // namespace aximg
