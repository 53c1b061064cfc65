// Entry point of the alexnet_image addon: JPEG decoding of the region a crop needs, resized as
// PIL would, on the libuv thread pool.
//   decodeJpeg(bytes: Uint8Array, box: [left, top, width, height], outWidth, outHeight, scaleDenom = 1,
//              window?: [left, top, width, height], into?: Uint8Array)
//     -> Promise<{ data: Uint8Array (outHeight × outWidth × 3, RGB), width, height }>
// rejects with libjpeg's message for a file it cannot decode; scaleDenom 2, 4 or 8 shrinks the
// image while decoding (DCT scaling) before the resize. With `window`, only that part of the
// resized image is made (a centre crop after a resize), decoding only the source it reads.
// `into`, exactly the result's size, receives the pixels and is returned as `data` (a caller that
// reuses it spares a new array per image, and the garbage collections those set off).
//   jpegHeader(bytes) -> { width, height, components } (synchronous, for tests and tools).
//   toTensorU8(src, srcW, srcH, channels, [top, left, height, width], flip, table, out)
//     (synchronous): crop + flip + ToTensor/Normalize through a per-channel table, see to_tensor.hpp.
#include <napi.h>

#include "jpeg_region.hpp"
#include "resample.hpp"
#include "to_tensor.hpp"

namespace {

using aximg::Pixels;

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Napi::Uint8Array bytes, int box[4], int outW, int outH, int scaleDenom, const aximg::Box* window,
               Napi::Uint8Array into)
      : Napi::AsyncWorker(env),
        bytes_(bytes.Data(), bytes.Data() + bytes.ByteLength()),
        left_(box[0]), top_(box[1]), width_(box[2]), height_(box[3]), outW_(outW), outH_(outH), scaleDenom_(scaleDenom),
        hasWindow_(window != nullptr), window_(window ? *window : aximg::Box{}),
        deferred_(Napi::Promise::Deferred::New(env)) {
    if (!into.IsEmpty()) into_ = Napi::Persistent(into);
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      if (hasWindow_ && scaleDenom_ == 1) {
        // Only the source rectangle the window reads (relative to the box), then only the window.
        const aximg::Box need = aximg::resizeSource(width_, height_, outW_, outH_, window_);
        const int x0 = left_ + need.left;
        const int y0 = top_ + need.top;
        Pixels region = aximg::decodeJpegRegion(bytes_.data(), bytes_.size(), x0, y0, x0 + need.width, y0 + need.height, 1);
        result_ = aximg::greyToRgb(aximg::resizeBilinearWindow(region, need, width_, height_, outW_, outH_, window_));
        return;
      }
      Pixels region = aximg::decodeJpegRegion(bytes_.data(), bytes_.size(), left_, top_, left_ + width_, top_ + height_, scaleDenom_);
      if (hasWindow_) {
        aximg::Box all{0, 0, region.width, region.height};
        result_ = aximg::greyToRgb(aximg::resizeBilinearWindow(region, all, region.width, region.height, outW_, outH_, window_));
        return;
      }
      result_ = aximg::greyToRgb(aximg::resizeBilinear(region, outW_, outH_));
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  // A data worker thread may be terminated while a decode is in flight: its environment is then
  // shutting down, every N-API call fails, and nobody awaits the promise. Such failures are
  // swallowed here (an exception escaping a completion callback would abort the whole process).
  void OnOK() override {
    try {
      Napi::Env env = Env();
      Napi::Object o = Napi::Object::New(env);
      // Copied here, on the JavaScript thread: `into` is never written while JavaScript may use it.
      Napi::Uint8Array data = into_.IsEmpty() ? Napi::Uint8Array::New(env, result_.data.size()) : into_.Value();
      if (data.ByteLength() != result_.data.size()) {
        deferred_.Reject(Napi::RangeError::New(env, "decodeJpeg: `into` does not hold the result's size").Value());
        return;
      }
      std::copy(result_.data.begin(), result_.data.end(), data.Data());
      o.Set("data", data);
      o.Set("width", result_.width);
      o.Set("height", result_.height);
      deferred_.Resolve(o);
    } catch (const Napi::Error&) {
    }
  }

  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
  }

 private:
  // A copy of the file's bytes (tens of kB): JavaScript may detach or reuse its buffer while a
  // pool thread decodes.
  std::vector<uint8_t> bytes_;
  int left_, top_, width_, height_, outW_, outH_, scaleDenom_;
  bool hasWindow_;
  aximg::Box window_;
  Pixels result_;
  Napi::Reference<Napi::Uint8Array> into_;
  Napi::Promise::Deferred deferred_;
};

int intArg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("image addon: ") + what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<int>(d) || d < 0 || d > (1 << 30)) throw Napi::RangeError::New(v.Env(), std::string("image addon: bad ") + what);
  return static_cast<int>(d);
}

Napi::Value decodeJpeg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || info.Length() > 7 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, "decodeJpeg(bytes: Uint8Array, box: [left, top, width, height], outWidth, outHeight, scaleDenom?, window?, into?)");
  }
  auto boxArr = info[1].As<Napi::Array>();
  if (boxArr.Length() != 4) throw Napi::TypeError::New(env, "decodeJpeg: box is [left, top, width, height]");
  int box[4];
  const char* names[4] = {"left", "top", "width", "height"};
  for (uint32_t i = 0; i < 4; i++) box[i] = intArg(boxArr.Get(i), names[i]);
  const int outW = intArg(info[2], "outWidth");
  const int outH = intArg(info[3], "outHeight");
  if (box[2] < 1 || box[3] < 1 || outW < 1 || outH < 1) throw Napi::RangeError::New(env, "decodeJpeg: empty box or output");
  const int scaleDenom = info.Length() >= 5 && !info[4].IsUndefined() ? intArg(info[4], "scaleDenom") : 1;
  if (scaleDenom != 1 && scaleDenom != 2 && scaleDenom != 4 && scaleDenom != 8) throw Napi::RangeError::New(env, "decodeJpeg: scaleDenom is 1, 2, 4 or 8");
  aximg::Box window;
  const bool hasWindow = info.Length() >= 6 && !info[5].IsUndefined();
  if (hasWindow) {
    if (!info[5].IsArray() || info[5].As<Napi::Array>().Length() != 4) throw Napi::TypeError::New(env, "decodeJpeg: window is [left, top, width, height]");
    auto winArr = info[5].As<Napi::Array>();
    window = {intArg(winArr.Get(0u), "window left"), intArg(winArr.Get(1u), "window top"), intArg(winArr.Get(2u), "window width"),
              intArg(winArr.Get(3u), "window height")};
    if (window.width < 1 || window.height < 1 || window.left + window.width > outW || window.top + window.height > outH) {
      throw Napi::RangeError::New(env, "decodeJpeg: the window must lie inside the output");
    }
  }
  Napi::Uint8Array into;
  if (info.Length() == 7 && !info[6].IsUndefined()) {
    if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      throw Napi::TypeError::New(env, "decodeJpeg: into is a Uint8Array");
    into = info[6].As<Napi::Uint8Array>();
    const size_t want = static_cast<size_t>(hasWindow ? window.width : outW) * (hasWindow ? window.height : outH) * 3;
    if (into.ByteLength() != want) throw Napi::RangeError::New(env, "decodeJpeg: into must hold " + std::to_string(want) + " bytes");
  }
  auto* w = new DecodeWorker(env, info[0].As<Napi::Uint8Array>(), box, outW, outH, scaleDenom, hasWindow ? &window : nullptr, into);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

Napi::Value jpegHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "jpegHeader(bytes: Uint8Array)");
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  try {
    aximg::JpegHeader h = aximg::readJpegHeader(bytes.Data(), bytes.ByteLength());
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", h.width);
    o.Set("height", h.height);
    o.Set("components", h.components);
    return o;
  } catch (const aximg::JpegError& e) {
    throw Napi::Error::New(env, e.what());
  }
}

int signedArg(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("toTensorU8: ") + what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<int>(d) || d < -(1 << 30) || d > (1 << 30)) throw Napi::RangeError::New(v.Env(), std::string("toTensorU8: bad ") + what);
  return static_cast<int>(d);
}

template <typename T>
T typedArg(const Napi::Value& v, napi_typedarray_type type, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(v.Env(), std::string("toTensorU8: ") + what + " has the wrong type");
  }
  return v.As<T>();
}

Napi::Value toTensorU8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 8 || !info[4].IsArray() || !info[5].IsBoolean()) {
    throw Napi::TypeError::New(env, "toTensorU8(src, srcW, srcH, channels, [top, left, height, width], flip, table, out)");
  }
  auto src = typedArg<Napi::Uint8Array>(info[0], napi_uint8_array, "src");
  const int srcW = intArg(info[1], "srcW");
  const int srcH = intArg(info[2], "srcH");
  const int C = intArg(info[3], "channels");
  auto boxArr = info[4].As<Napi::Array>();
  if (boxArr.Length() != 4) throw Napi::TypeError::New(env, "toTensorU8: box is [top, left, height, width]");
  aximg::CropSpec k{signedArg(boxArr.Get(0u), "top"), signedArg(boxArr.Get(1u), "left"), signedArg(boxArr.Get(2u), "height"),
                    signedArg(boxArr.Get(3u), "width"), info[5].As<Napi::Boolean>().Value()};
  auto table = typedArg<Napi::Float32Array>(info[6], napi_float32_array, "table");
  auto out = typedArg<Napi::Float32Array>(info[7], napi_float32_array, "out");
  if (C < 1 || k.height < 1 || k.width < 1) throw Napi::RangeError::New(env, "toTensorU8: empty crop or no channels");
  if (src.ElementLength() < static_cast<size_t>(srcW) * srcH * C) throw Napi::RangeError::New(env, "toTensorU8: src is smaller than srcW x srcH x channels");
  if (table.ElementLength() < static_cast<size_t>(C) * 256) throw Napi::RangeError::New(env, "toTensorU8: table needs 256 entries per channel");
  if (out.ElementLength() < static_cast<size_t>(C) * k.height * k.width) throw Napi::RangeError::New(env, "toTensorU8: out is smaller than the crop");
  aximg::toTensorU8(src.Data(), srcW, srcH, C, k, table.Data(), out.Data());
  return env.Undefined();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("toTensorU8", Napi::Function::New(env, toTensorU8, "toTensorU8"));
  exports.Set("decodeJpeg", Napi::Function::New(env, decodeJpeg, "decodeJpeg"));
  exports.Set("jpegHeader", Napi::Function::New(env, jpegHeader, "jpegHeader"));
  return exports;
}

} // namespace

NODE_API_MODULE(alexnet_image, init)
