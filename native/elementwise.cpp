// Elementwise work: ReLU forward/backward in the input's own (maybe blocked) layout, and plain
// loops for the generic unary/binary/scalar ops, gradient accumulation (axpy), sums, bias
// broadcast and dropout. Loops run on the physical buffer when the layouts agree and carry no
// blocking padding; otherwise on plain f32 copies. ReLU and dropout keep a bf16 activation bf16.
#include <cmath>
#include <cstring>

#include "nonfinite.hpp"
#include "ops.hpp"

namespace ax {

namespace {

/** ReLU in x's own (maybe blocked, maybe bf16) layout; NaN stays NaN as in PyTorch (nonfinite.hpp). */
Napi::Value relu(const Napi::CallbackInfo &info) {
  BufPtr xp = unwrap(info[0], "relu input");
  Buf &x = *xp;
  BufPtr y = newBuf(x.md);
  MemPtr in = x.mem, out = y->mem;
  int64_t n = physicalElements(x.md);
  if (isBf16(x.md)) submit([in, out, n] { reluLoopBf16(bf16Data(in), bf16Data(out), n); });
  else submit([in, out, n] { reluLoop(in->f32(), out->f32(), n); });
  return wrap(info.Env(), y);
}

/** The ReLU gradient in y's own layout and type (a bf16 y gives a bf16 gradient, gy rounded once). */
Napi::Value reluBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "relu output gradient");
  BufPtr y = unwrap(info[1], "relu output");
  if (gy->size() != y->size()) throw Napi::RangeError::New(info.Env(), "native: relu gradient and output differ in size");
  MemPtr dy = inLayout(*gy, y->md, false), ym = y->mem;
  BufPtr dx = newBuf(y->md);
  MemPtr out = dx->mem;
  int64_t n = physicalElements(y->md);
  if (isBf16(y->md)) submit([dy, ym, out, n] { reluBackwardLoopBf16(bf16Data(dy), bf16Data(ym), bf16Data(out), n); });
  else submit([dy, ym, out, n] { reluBackwardLoop(dy->f32(), ym->f32(), out->f32(), n); });
  return wrap(info.Env(), dx);
}

/** Operands of an elementwise op brought to one layout: a's own when dense and shared, else plain. */
struct Same {
  md_t md;
  std::vector<MemPtr> mems;
  int64_t count;
};

Same sameLayout(const std::vector<Buf *> &bufs) {
  Buf &a = *bufs[0];
  bool physical = descType(a.md) == dt::f32 && a.dense();
  for (size_t i = 1; i < bufs.size() && physical; i++) physical = bufs[i]->md == a.md;
  Same s;
  s.md = physical ? a.md : plainDesc(descDims(a.md));
  for (Buf *b : bufs) s.mems.push_back(physical ? b->mem : plainF32(*b));
  s.count = static_cast<int64_t>(a.size());
  return s;
}

std::string str(const Napi::Value &v, const char *what) {
  if (!v.IsString()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Value unary(const Napi::CallbackInfo &info) {
  std::string op = str(info[0], "unary op");
  BufPtr x = unwrap(info[1], "unary input");
  int code = op == "neg" ? 0 : op == "exp" ? 1 : op == "log" ? 2 : op == "sqrt" ? 3 : op == "abs" ? 4 : op == "relu" ? 5 : op == "sign" ? 6 : -1;
  if (code < 0) throw Napi::Error::New(info.Env(), "native: unknown unary op '" + op + "'");
  Same s = sameLayout({x.get()});
  BufPtr y = newBuf(s.md);
  MemPtr in = s.mems[0], out = y->mem;
  int64_t n = s.count;
  submit([code, in, out, n] {
    const float *a = in->f32();
    float *r = out->f32();
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) {
      float v = a[i];
      switch (code) {
        case 0: r[i] = -v; break;
        case 1: r[i] = std::exp(v); break;
        case 2: r[i] = std::log(v); break;
        case 3: r[i] = std::sqrt(v); break;
        case 4: r[i] = std::fabs(v); break;
        case 5: r[i] = v > 0.f ? v : 0.f; break;
        default: r[i] = v > 0.f ? 1.f : v < 0.f ? -1.f : v; break; // sign (keeps NaN and 0)
      }
    }
  });
  return wrap(info.Env(), y);
}

Napi::Value binary(const Napi::CallbackInfo &info) {
  std::string op = str(info[0], "binary op");
  BufPtr a = unwrap(info[1], "binary lhs");
  BufPtr b = unwrap(info[2], "binary rhs");
  int code = op == "add" ? 0 : op == "sub" ? 1 : op == "mul" ? 2 : op == "div" ? 3 : op == "max" ? 4 : op == "min" ? 5 : -1;
  if (code < 0) throw Napi::Error::New(info.Env(), "native: unknown binary op '" + op + "'");
  if (a->size() != b->size()) throw Napi::RangeError::New(info.Env(), "native: binary operands differ in size");
  Same s = sameLayout({a.get(), b.get()});
  BufPtr y = newBuf(s.md);
  MemPtr ma = s.mems[0], mb = s.mems[1], out = y->mem;
  int64_t n = s.count;
  submit([code, ma, mb, out, n] {
    const float *p = ma->f32();
    const float *q = mb->f32();
    float *r = out->f32();
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) {
      float u = p[i], v = q[i];
      switch (code) {
        case 0: r[i] = u + v; break;
        case 1: r[i] = u - v; break;
        case 2: r[i] = u * v; break;
        case 3: r[i] = u / v; break;
        case 4: r[i] = (u != u || v != v) ? NAN : (u > v ? u : v); break;
        default: r[i] = (u != u || v != v) ? NAN : (u < v ? u : v); break;
      }
    }
  });
  return wrap(info.Env(), y);
}

Napi::Value scalar(const Napi::CallbackInfo &info) {
  std::string op = str(info[0], "scalar op");
  BufPtr x = unwrap(info[1], "scalar input");
  float value = static_cast<float>(num(info[2], "scalar value"));
  int code = op == "add" ? 0 : op == "mul" ? 1 : op == "pow" ? 2 : op == "max" ? 3 : op == "min" ? 4 : op == "rsub" ? 5 : op == "rdiv" ? 6 : -1;
  if (code < 0) throw Napi::Error::New(info.Env(), "native: unknown scalar op '" + op + "'");
  Same s = sameLayout({x.get()});
  BufPtr y = newBuf(s.md);
  MemPtr in = s.mems[0], out = y->mem;
  int64_t n = s.count;
  submit([code, in, out, n, value] {
    const float *a = in->f32();
    float *r = out->f32();
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) {
      float u = a[i];
      switch (code) {
        case 0: r[i] = u + value; break;
        case 1: r[i] = u * value; break;
        case 2: r[i] = std::pow(u, value); break;
        case 3: r[i] = u != u ? u : (u > value ? u : value); break;
        case 4: r[i] = u != u ? u : (u < value ? u : value); break;
        case 5: r[i] = value - u; break;
        default: r[i] = value / u; break;
      }
    }
  });
  return wrap(info.Env(), y);
}

Napi::Value axpyInPlace(const Napi::CallbackInfo &info) {
  BufPtr dst = unwrap(info[0], "axpy destination");
  BufPtr src = unwrap(info[1], "axpy source");
  float alpha = static_cast<float>(num(info[2], "axpy alpha"));
  if (dst->size() != src->size()) throw Napi::RangeError::New(info.Env(), "native: axpy operands differ in size");
  // Same layout: work on the physical buffers; otherwise both in plain row-major order (the
  // operands may even differ in dims, e.g. a flat gradient for a 4-D weight).
  bool physical = src->md == dst->md && descType(dst->md) == dt::f32 && dst->dense();
  if (!physical) makePlainInPlace(*dst);
  MemPtr s = physical ? src->mem : plainF32(*src);
  MemPtr d = dst->mem;
  touched(*dst);
  int64_t n = static_cast<int64_t>(dst->size());
  submit([d, s, n, alpha] {
    float *r = d->f32();
    const float *a = s->f32();
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) r[i] += alpha * a[i];
  });
  return info.Env().Undefined();
}

Napi::Value sum(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "sum input");
  dims_t dims = descDims(x->md);
  MemPtr in = plainF32(*x);
  if (info[1].IsNull() || info[1].IsUndefined()) {
    BufPtr y = newBuf(plainDesc({1}));
    MemPtr out = y->mem;
    int64_t n = static_cast<int64_t>(x->size());
    submit([in, out, n] {
      double acc = 0;
      const float *a = in->f32();
      for (int64_t i = 0; i < n; i++) acc += a[i];
      out->f32()[0] = static_cast<float>(acc);
    });
    return wrap(info.Env(), y);
  }
  int64_t axis = static_cast<int64_t>(num(info[1], "sum axis"));
  if (axis < 0 || axis >= static_cast<int64_t>(dims.size())) throw Napi::RangeError::New(info.Env(), "native: sum axis out of range");
  int64_t outer = 1, inner = 1, len = dims[axis];
  dims_t outDims;
  for (int64_t i = 0; i < static_cast<int64_t>(dims.size()); i++) {
    if (i < axis) outer *= dims[i];
    if (i > axis) inner *= dims[i];
    if (i != axis) outDims.push_back(dims[i]);
  }
  if (outDims.empty()) outDims.push_back(1);
  BufPtr y = newBuf(plainDesc(outDims));
  MemPtr out = y->mem;
  submit([in, out, outer, inner, len] {
    const float *a = in->f32();
    float *r = out->f32();
#pragma omp parallel for if (outer * inner > kParallelMin)
    for (int64_t o = 0; o < outer; o++) {
      for (int64_t i = 0; i < inner; i++) {
        double acc = 0;
        for (int64_t k = 0; k < len; k++) acc += a[(o * len + k) * inner + i];
        r[o * inner + i] = static_cast<float>(acc);
      }
    }
  });
  return wrap(info.Env(), y);
}

Napi::Value addBias(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "addBias input");
  BufPtr b = unwrap(info[1], "addBias bias");
  dims_t dims = descDims(x->md);
  if (dims.size() < 2 || static_cast<int64_t>(b->size()) != dims[1]) throw Napi::RangeError::New(info.Env(), "native: addBias needs bias [C] for x [N, C, ...]");
  int64_t n = dims[0], c = dims[1], inner = 1;
  for (size_t i = 2; i < dims.size(); i++) inner *= dims[i];
  MemPtr xs = plainF32(*x), bs = plainF32(*b);
  BufPtr y = newBuf(plainDesc(dims));
  MemPtr out = y->mem;
  submit([xs, bs, out, n, c, inner] {
    const float *a = xs->f32();
    const float *bias = bs->f32();
    float *r = out->f32();
#pragma omp parallel for if (n * c * inner > kParallelMin)
    for (int64_t p = 0; p < n * c; p++) {
      float v = bias[p % c];
      for (int64_t i = 0; i < inner; i++) r[p * inner + i] = a[p * inner + i] + v;
    }
  });
  return wrap(info.Env(), y);
}

/** splitmix64: a counter-based generator, so mask element i depends only on (seed, i). */
inline uint64_t mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Napi::Value dropout(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "dropout input");
  double p = num(info[1], "dropout p");
  uint64_t seed = static_cast<uint64_t>(num(info[2], "dropout seed"));
  if (!(p >= 0 && p <= 1)) throw Napi::RangeError::New(info.Env(), "native: dropout p must be in [0, 1]");
  // A bf16 activation stays bf16 (plain): y = bf16(x · keep), the mask is f32 either way.
  bool bf16 = isBf16(x->md);
  md_t md = plainDesc(descDims(x->md));
  MemPtr xs = bf16 ? inLayout(*x, plainOwnType(*x), false) : plainF32(*x);
  BufPtr y = newBuf(bf16 ? plainOwnType(*x) : md), mask = newBuf(md);
  MemPtr ym = y->mem, mm = mask->mem;
  int64_t n = static_cast<int64_t>(x->size());
  float keepScale = p >= 1 ? 0.f : static_cast<float>(1.0 / (1.0 - p));
  submit([xs, ym, mm, n, p, seed, keepScale, bf16] {
    float *m = mm->f32();
    uint64_t base = mix(seed);
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t i = 0; i < n; i++) {
      double u = static_cast<double>(mix(base ^ static_cast<uint64_t>(i)) >> 11) * (1.0 / 9007199254740992.0);
      float keep = u >= p ? keepScale : 0.f;
      m[i] = keep;
      if (bf16) bf16Data(ym)[i] = f32ToBf16(bf16ToF32(bf16Data(xs)[i]) * keep);
      else ym->f32()[i] = xs->f32()[i] * keep;
    }
  });
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, wrap(env, y));
  out.Set(1u, wrap(env, mask));
  return out;
}

} // namespace

void registerElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("relu", Napi::Function::New(env, relu));
  exports.Set("reluBackward", Napi::Function::New(env, reluBackward));
  exports.Set("unary", Napi::Function::New(env, unary));
  exports.Set("binary", Napi::Function::New(env, binary));
  exports.Set("scalar", Napi::Function::New(env, scalar));
  exports.Set("axpyInPlace", Napi::Function::New(env, axpyInPlace));
  exports.Set("sum", Napi::Function::New(env, sum));
  exports.Set("addBias", Napi::Function::New(env, addBias));
  exports.Set("dropout", Napi::Function::New(env, dropout));
}

} // namespace ax
