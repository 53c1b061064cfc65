// Moving data in and out of native buffers: fromArray/toArray (plain NCHW f32 at the boundary),
// writeAt (values written into part of a buffer in place), readInto (the values copied into part
// of a caller's array: no new array, e.g. gradients into an allreduce bucket), full, clone, reshape (a blocked buffer
// is reordered to plain once, in its own f32 or bf16 type, then shared), dispose and the live-allocation counter.
// A bf16 buffer reads back as f32 (toArray/readInto convert; writeAt makes it plain f32 first).
#include <algorithm>
#include <cstring>

#include "ops.hpp"

namespace ax {

namespace {

Napi::Value fromArray(const Napi::CallbackInfo &info) {
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), "native: fromArray needs a Float32Array");
  }
  auto src = info[0].As<Napi::Float32Array>();
  dims_t dims = toDims(info[1], "fromArray shape");
  BufPtr b = newBuf(plainDesc(dims));
  if (b->size() != src.ElementLength()) throw Napi::RangeError::New(info.Env(), "native: fromArray data length does not match shape");
  // Copied now (the JS array may change after the call); nothing queued can read b yet.
  std::memcpy(b->mem->ptr, src.Data(), src.ElementLength() * sizeof(float));
  return wrap(info.Env(), b);
}

/** writeAt(handle, offset, Float32Array): overwrites elements offset… of the buffer in place. */
Napi::Value writeAt(const Napi::CallbackInfo &info) {
  BufPtr b = unwrap(info[0], "writeAt target");
  double offset = num(info[1], "writeAt offset");
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), "native: writeAt needs a Float32Array");
  }
  auto src = info[2].As<Napi::Float32Array>();
  size_t n = src.ElementLength();
  if (!(offset >= 0) || offset != static_cast<double>(static_cast<size_t>(offset)) || static_cast<size_t>(offset) > b->size() ||
      n > b->size() - static_cast<size_t>(offset)) {
    throw Napi::RangeError::New(info.Env(), "native: writeAt range lies outside the buffer");
  }
  makePlainInPlace(*b);
  touched(*b); // cached reorders of the old values are stale now
  flushSync(); // queued work reading the old values runs first
  std::memcpy(b->mem->f32() + static_cast<size_t>(offset), src.Data(), n * sizeof(float));
  return info.Env().Undefined();
}

Napi::Value toArray(const Napi::CallbackInfo &info) {
  BufPtr b = unwrap(info[0], "toArray source");
  MemPtr plain = plainF32(*b);
  flushSync();
  size_t n = b->size();
  auto out = Napi::Float32Array::New(info.Env(), n);
  float *dst = out.Data();
  std::vector<std::function<void()>> copy;
  copy.push_back([plain, dst, n] { std::memcpy(dst, plain->ptr, n * sizeof(float)); });
  runTasks(copy); // waits for an async flush that may still be writing `plain`
  return out;
}

/** readInto(handle, Float32Array, offset): copies the plain f32 elements into the array from `offset` on. */
Napi::Value readInto(const Napi::CallbackInfo &info) {
  BufPtr b = unwrap(info[0], "readInto source");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), "native: readInto needs a Float32Array");
  }
  auto dst = info[1].As<Napi::Float32Array>();
  double offset = num(info[2], "readInto offset");
  size_t n = b->size();
  if (!(offset >= 0) || offset != static_cast<double>(static_cast<size_t>(offset)) || static_cast<size_t>(offset) > dst.ElementLength() ||
      n > dst.ElementLength() - static_cast<size_t>(offset)) {
    throw Napi::RangeError::New(info.Env(), "native: readInto range lies outside the array");
  }
  MemPtr plain = plainF32(*b);
  flushSync();
  float *out = dst.Data() + static_cast<size_t>(offset);
  std::vector<std::function<void()>> copy;
  copy.push_back([plain, out, n] { std::memcpy(out, plain->ptr, n * sizeof(float)); });
  runTasks(copy); // as toArray: waits for an async flush that may still be writing `plain`
  return info.Env().Undefined();
}

Napi::Value full(const Napi::CallbackInfo &info) {
  dims_t dims = toDims(info[0], "full shape");
  float value = static_cast<float>(num(info[1], "full value"));
  BufPtr b = newBuf(plainDesc(dims));
  std::fill(b->mem->f32(), b->mem->f32() + b->size(), value);
  return wrap(info.Env(), b);
}

Napi::Value clone(const Napi::CallbackInfo &info) {
  return wrap(info.Env(), copyOf(*unwrap(info[0], "clone source")));
}

Napi::Value reshape(const Napi::CallbackInfo &info) {
  BufPtr b = unwrap(info[0], "reshape source");
  dims_t dims = toDims(info[1], "reshape shape");
  makePlainKeepType(*b); // a bf16 activation stays bf16 (flattened for a linear layer)
  md_t md = plainDesc(dims, descType(b->md));
  if (md.get_size() != b->md.get_size()) throw Napi::RangeError::New(info.Env(), "native: reshape changes the element count");
  return wrap(info.Env(), std::make_shared<Buf>(b->mem, md));
}

Napi::Value dispose(const Napi::CallbackInfo &info) {
  if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "native: dispose needs a native handle");
  Slot *s = info[0].As<Napi::External<Slot>>().Data();
  if (s) s->buf.reset(); // queued work keeps its own references to the memory
  return info.Env().Undefined();
}

Napi::Value liveBuffers(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), static_cast<double>(liveAllocations()));
}

Napi::Value trimPoolJs(const Napi::CallbackInfo &info) {
  trimPool();
  return info.Env().Undefined();
}

/** Debug/test: the layout of a handle ("plain" or oneDNN's blocked description). */
Napi::Value layoutOf(const Napi::CallbackInfo &info) {
  BufPtr b = unwrap(info[0], "layout source");
  if (b->isPlainF32()) return Napi::String::New(info.Env(), "plain");
  return Napi::String::New(info.Env(), std::string(descType(b->md) == dt::bf16 ? "bf16-" : "") + "blocked");
}

} // namespace

void registerMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("fromArray", Napi::Function::New(env, fromArray));
  exports.Set("toArray", Napi::Function::New(env, toArray));
  exports.Set("full", Napi::Function::New(env, full));
  exports.Set("clone", Napi::Function::New(env, clone));
  exports.Set("writeAt", Napi::Function::New(env, writeAt));
  exports.Set("readInto", Napi::Function::New(env, readInto));
  exports.Set("reshape", Napi::Function::New(env, reshape));
  exports.Set("dispose", Napi::Function::New(env, dispose));
  exports.Set("liveBuffers", Napi::Function::New(env, liveBuffers));
  exports.Set("trimPool", Napi::Function::New(env, trimPoolJs));
  exports.Set("layoutOf", Napi::Function::New(env, layoutOf));
}

} // namespace ax
