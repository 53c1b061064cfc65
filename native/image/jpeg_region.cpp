// libjpeg-turbo region decoding: jpeg_crop_scanline narrows the columns that are decoded,
// jpeg_skip_scanlines the rows. libjpeg reports fatal errors through error_exit, which must not
// return: it longjmps back here, and only plain data lives across the setjmp.
#include "jpeg_region.hpp"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <jerror.h>

namespace aximg {
namespace {

// Columns and rows of context kept around the region: more than one iMCU (16 pixels for 2×2
// chroma subsampling), so the fancy upsampler sees real neighbours at the region's edges.
constexpr int kMargin = 32;

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void onError(j_common_ptr c) {
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  (*c->err->format_message)(c, e->message);
  longjmp(e->jump, 1);
}

// Warnings (level -1) are ignored as PIL ignores them, except the end of data arriving early:
// libjpeg would pad the rest with grey, PIL raises "image file is truncated".
void onMessage(j_common_ptr c, int level) {
  if (level >= 0 || c->err->msg_code != JWRN_JPEG_EOF) return;
  auto* e = reinterpret_cast<ErrorManager*>(c->err);
  std::snprintf(e->message, sizeof e->message, "truncated: the data ends before the image does");
  longjmp(e->jump, 1);
}

struct Decoder {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
};

void begin(Decoder& d, const uint8_t* bytes, size_t size) {
  d.cinfo.err = jpeg_std_error(&d.err.pub);
  d.err.pub.error_exit = onError;
  d.err.pub.emit_message = onMessage;
  d.err.message[0] = '\0';
  jpeg_create_decompress(&d.cinfo);
  jpeg_mem_src(&d.cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&d.cinfo, TRUE);
}

} // namespace

JpegHeader readJpegHeader(const uint8_t* bytes, size_t size) {
  Decoder d;
  if (setjmp(d.err.jump)) {
    jpeg_destroy_decompress(&d.cinfo);
    throw JpegError(d.err.message);
  }
  begin(d, bytes, size);
  JpegHeader h{static_cast<int>(d.cinfo.image_width), static_cast<int>(d.cinfo.image_height), d.cinfo.num_components};
  jpeg_destroy_decompress(&d.cinfo);
  return h;
}

Pixels decodeJpegRegion(const uint8_t* bytes, size_t size, int x0, int y0, int x1, int y1, int scaleDenom) {
  Pixels out;
  std::vector<uint8_t> row;
  Decoder d;
  if (setjmp(d.err.jump)) {
    jpeg_destroy_decompress(&d.cinfo);
    throw JpegError(d.err.message);
  }
  begin(d, bytes, size);
  jpeg_decompress_struct& ci = d.cinfo;
  const int W = static_cast<int>(ci.image_width);
  const int H = static_cast<int>(ci.image_height);
  if (ci.num_components != 1 && ci.num_components != 3) {
    std::snprintf(d.err.message, sizeof d.err.message, "%d colour components (only grey and YCbCr/RGB are decoded here)", ci.num_components);
    longjmp(d.err.jump, 1);
  }
  if (x0 < 0 || y0 < 0 || x1 > W || y1 > H || x0 >= x1 || y0 >= y1) {
    std::snprintf(d.err.message, sizeof d.err.message, "region [%d, %d) x [%d, %d) outside the %dx%d image", x0, x1, y0, y1, W, H);
    longjmp(d.err.jump, 1);
  }
  const int C = ci.num_components;
  ci.out_color_space = C == 1 ? JCS_GRAYSCALE : JCS_RGB;
  if (scaleDenom > 1) {
    // The region in reduced coordinates: every output pixel that overlaps it.
    ci.scale_num = 1;
    ci.scale_denom = static_cast<unsigned int>(scaleDenom);
    jpeg_calc_output_dimensions(&ci);
    x0 /= scaleDenom;
    y0 /= scaleDenom;
    x1 = std::min(static_cast<int>(ci.output_width), (x1 + scaleDenom - 1) / scaleDenom);
    y1 = std::min(static_cast<int>(ci.output_height), (y1 + scaleDenom - 1) / scaleDenom);
  }
  jpeg_start_decompress(&ci);
  const int outW = static_cast<int>(ci.output_width);

  JDIMENSION cropX = static_cast<JDIMENSION>(std::max(0, x0 - kMargin));
  JDIMENSION cropW = static_cast<JDIMENSION>(std::min(outW, x1 + kMargin)) - cropX;
  if (cropX > 0 || static_cast<int>(cropW) < outW) jpeg_crop_scanline(&ci, &cropX, &cropW);
  const int firstRow = std::max(0, y0 - kMargin);
  if (firstRow > 0) jpeg_skip_scanlines(&ci, static_cast<JDIMENSION>(firstRow));

  out.width = x1 - x0;
  out.height = y1 - y0;
  out.channels = C;
  out.data.resize(static_cast<size_t>(out.width) * out.height * C);
  row.resize(static_cast<size_t>(ci.output_width) * C);
  const size_t skip = static_cast<size_t>(x0 - static_cast<int>(cropX)) * C;
  const size_t rowBytes = static_cast<size_t>(out.width) * C;
  JSAMPROW rows[1] = {row.data()};
  while (static_cast<int>(ci.output_scanline) < y1) {
    const int y = static_cast<int>(ci.output_scanline);
    if (jpeg_read_scanlines(&ci, rows, 1) != 1) {
      std::snprintf(d.err.message, sizeof d.err.message, "no scanline %d", y);
      longjmp(d.err.jump, 1);
    }
    if (y >= y0) std::memcpy(out.data.data() + static_cast<size_t>(y - y0) * rowBytes, row.data() + skip, rowBytes);
  }
  jpeg_abort_decompress(&ci);
  jpeg_destroy_decompress(&ci);
  return out;
}

} // namespace aximg
