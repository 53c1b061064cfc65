// What JavaScript hands the addon, read and checked before anything is allocated or run: dims
// arrays, geometry objects read by field name (ConvGeometry, PoolGeometry, ... of
// src/backend/backend.ts), option objects and plain numbers. Every value must be an integer in
// range, every element count and byte size is computed without int64 overflow, and geometry must
// agree with the buffers it is used with, so hostile input throws a JS error, never crashes.
#pragma once

#include <cmath>
#include <string>

#include "core.hpp"

namespace ax {

/** Largest element count the addon accepts: its f32 bytes stay far below int64's range. */
constexpr int64_t kMaxElements = int64_t(1) << 50;

[[noreturn]] inline void rangeError(Napi::Env env, const std::string &msg) { throw Napi::RangeError::New(env, "native: " + msg); }

/** a · b for counts of elements, throwing a RangeError naming `what` past kMaxElements. */
inline int64_t checkedMul(Napi::Env env, int64_t a, int64_t b, const char *what) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r) || r > kMaxElements) rangeError(env, std::string(what) + " has too many elements");
  return r;
}

/** Elements of `d` (each dim ≥ 1), checked. */
inline int64_t checkedCount(Napi::Env env, const dims_t &d, const char *what) {
  int64_t n = 1;
  for (int64_t x : d) n = checkedMul(env, n, x, what);
  return n;
}

/** A JS number that is an integer in [min, kMaxElements]. */
inline int64_t integer(const Napi::Value &v, int64_t min, const std::string &what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), "native: " + what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= static_cast<double>(kMaxElements)) || d != std::floor(d)) {
    rangeError(v.Env(), what + " must be an integer >= " + std::to_string(min) + ", got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

/** Named fields of a JS object (a geometry or an options object), each read and checked. */
class Fields {
 public:
  Fields(const Napi::Value &v, const char *what) : what_(what) {
    if (!v.IsObject() || v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be an object");
    obj_ = v.As<Napi::Object>();
  }
  /** An integer field ≥ 1 (a size). */
  int64_t dim(const char *name) const { return integer(get(name), 1, field(name)); }
  /** An integer field ≥ 0 (a padding). */
  int64_t nonNegative(const char *name) const { return integer(get(name), 0, field(name)); }
  /** A finite number field. */
  double number(const char *name) const {
    Napi::Value v = get(name);
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue()))
      throw Napi::TypeError::New(v.Env(), "native: " + field(name) + " must be a finite number");
    return v.As<Napi::Number>().DoubleValue();
  }
  /** A boolean option; absent means false. */
  bool flag(const char *name) const {
    Napi::Value v = obj_.Get(name);
    if (v.IsUndefined()) return false;
    if (!v.IsBoolean()) throw Napi::TypeError::New(v.Env(), "native: " + field(name) + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }
  Napi::Env env() const { return obj_.Env(); }

 private:
  std::string field(const char *name) const { return std::string(what_) + "." + name; }
  Napi::Value get(const char *name) const {
    if (!obj_.Has(name)) throw Napi::TypeError::New(obj_.Env(), "native: " + field(name) + " is missing");
    return obj_.Get(name);
  }
  Napi::Object obj_;
  const char *what_;
};

/** Throws unless buffer `b` holds exactly `n` logical elements. */
inline void expectSize(Napi::Env env, const Buf &b, int64_t n, const char *what) {
  if (static_cast<int64_t>(b.size()) != n)
    rangeError(env, std::string(what) + " holds " + std::to_string(b.size()) + " elements, the geometry needs " + std::to_string(n));
}

/** Convolution geometry (ConvGeometry in backend.ts); weight is [oc, c/groups, kh, kw]. */
struct ConvGeom {
  int64_t n, c, h, w, oc, kh, kw, oh, ow, sh, sw, ph, pw, groups;
  int64_t xCount, wCount, yCount;

  static ConvGeom read(const Napi::Value &v) {
    Fields f(v, "conv geometry");
    ConvGeom g{f.dim("n"), f.dim("c"), f.dim("h"), f.dim("w"), f.dim("oc"), f.dim("kh"), f.dim("kw"), f.dim("oh"), f.dim("ow"),
               f.dim("strideH"), f.dim("strideW"), f.nonNegative("padH"), f.nonNegative("padW"), f.dim("groups"), 0, 0, 0};
    Napi::Env env = f.env();
    if (g.c % g.groups != 0 || g.oc % g.groups != 0) rangeError(env, "conv geometry: groups must divide c and oc");
    if (g.h + 2 * g.ph < g.kh || g.w + 2 * g.pw < g.kw || (g.h + 2 * g.ph - g.kh) / g.sh + 1 != g.oh ||
        (g.w + 2 * g.pw - g.kw) / g.sw + 1 != g.ow)
      rangeError(env, "conv geometry: oh/ow do not follow from h/w, kernel, stride and padding");
    g.xCount = checkedCount(env, {g.n, g.c, g.h, g.w}, "conv input");
    g.wCount = checkedCount(env, {g.oc, g.c / g.groups, g.kh, g.kw}, "conv weight");
    g.yCount = checkedCount(env, {g.n, g.oc, g.oh, g.ow}, "conv output");
    return g;
  }
  std::string key() const {
    return joinInts({n, c, h, w, oc, kh, kw, oh, ow, sh, sw, ph, pw, groups});
  }
};

/** Max-pooling geometry (PoolGeometry); padBottom/padRight include ceil mode's extra padding. */
struct PoolGeom {
  int64_t n, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, pb, pr;
  int64_t xCount, yCount;

  static PoolGeom read(const Napi::Value &v) {
    Fields f(v, "pool geometry");
    PoolGeom g{f.dim("n"), f.dim("c"), f.dim("h"), f.dim("w"), f.dim("kh"), f.dim("kw"), f.dim("oh"), f.dim("ow"),
               f.dim("strideH"), f.dim("strideW"), f.nonNegative("padH"), f.nonNegative("padW"), f.nonNegative("padBottom"),
               f.nonNegative("padRight"), 0, 0};
    Napi::Env env = f.env();
    if (g.ph >= g.kh || g.pw >= g.kw || g.pb >= g.kh || g.pr >= g.kw) rangeError(env, "pool geometry: padding must be smaller than the kernel");
    if (g.h + g.ph + g.pb < g.kh || g.w + g.pw + g.pr < g.kw || (g.h + g.ph + g.pb - g.kh) / g.sh + 1 != g.oh ||
        (g.w + g.pw + g.pr - g.kw) / g.sw + 1 != g.ow)
      rangeError(env, "pool geometry: oh/ow do not follow from h/w, kernel, stride and padding");
    g.xCount = checkedCount(env, {g.n, g.c, g.h, g.w}, "pool input");
    g.yCount = checkedCount(env, {g.n, g.c, g.oh, g.ow}, "pool output");
    return g;
  }
  std::string key() const { return joinInts({n, c, h, w, kh, kw, oh, ow, sh, sw, ph, pw, pb, pr}); }
};

/** Adaptive average pooling geometry (AdaptivePoolGeometry). */
struct AdaptiveGeom {
  int64_t n, c, h, w, oh, ow;
  int64_t xCount, yCount;

  static AdaptiveGeom read(const Napi::Value &v) {
    Fields f(v, "adaptive pool geometry");
    AdaptiveGeom g{f.dim("n"), f.dim("c"), f.dim("h"), f.dim("w"), f.dim("oh"), f.dim("ow"), 0, 0};
    g.xCount = checkedCount(f.env(), {g.n, g.c, g.h, g.w}, "adaptive pool input");
    g.yCount = checkedCount(f.env(), {g.n, g.c, g.oh, g.ow}, "adaptive pool output");
    // The window arithmetic multiplies an index by a size: keep it inside int64.
    checkedCount(f.env(), {g.h + 1, g.oh + 1, g.w + 1, g.ow + 1}, "adaptive pool windows");
    return g;
  }
};

/** Linear geometry (LinearGeometry): x [m, k] · w [n, k]ᵀ = y [m, n]. */
struct LinearGeom {
  int64_t m, k, n;

  static LinearGeom read(const Napi::Value &v) {
    Fields f(v, "linear geometry");
    LinearGeom g{f.dim("m"), f.dim("k"), f.dim("n")};
    checkedMul(f.env(), g.m, g.k, "linear input");
    checkedMul(f.env(), g.n, g.k, "linear weight");
    checkedMul(f.env(), g.m, g.n, "linear output");
    return g;
  }
  std::string key() const { return joinInts({m, k, n}); }
};

/** A linear forward's arguments (x, w, b | null, geometry) as info[0..3], sizes checked against the geometry. */
struct LinearArgs {
  BufPtr x, w, b;
  LinearGeom g;

  static LinearArgs read(const Napi::CallbackInfo &info) {
    LinearArgs a{unwrap(info[0], "linear input"), unwrap(info[1], "linear weight"), unwrapOrNull(info[2], "linear bias"),
                 LinearGeom::read(info[3])};
    expectSize(info.Env(), *a.x, a.g.m * a.g.k, "linear input");
    expectSize(info.Env(), *a.w, a.g.n * a.g.k, "linear weight");
    if (a.b) expectSize(info.Env(), *a.b, a.g.n, "linear bias");
    return a;
  }
};

} // namespace ax
