// Fully connected layers as oneDNN inner products: y [m, n] = x [m, k] · wᵀ (w [n, k]) + b,
// with an optional fused ReLU post-op. Layouts are oneDNN's choice; weights are reordered once
// per write (cached on the weight buffer); weight gradients come back plain [n, k] from a matmul.
// In bf16 mode src/weights/diff_dst are bf16; a hidden layer (ReLU fused) writes its output in
// bf16 for the next layer, the last one (no ReLU: the logits the loss reads) in f32, as PyTorch's
// autocast; diff_src and weight gradients stay f32. A single f32 row goes through a row-streaming
// kernel instead (linearRow, gemv.cpp). A ReLU runs on the output in the same task (not as
// oneDNN's post-op, which turns NaN into 0). Geometry is a LinearGeometry object (geometry.hpp).
#include <algorithm>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

std::unordered_map<std::string, Cached<dnnl::inner_product_forward::primitive_desc, dnnl::inner_product_forward>> gFwd;
std::unordered_map<std::string, Cached<dnnl::inner_product_backward_data::primitive_desc, dnnl::inner_product_backward_data>>
    gBwdData;
std::unordered_map<std::string, Cached<dnnl::matmul::primitive_desc, dnnl::matmul>> gBwdWeights;

/** `bf16Dst`: the output in bf16 too (a hidden layer in bf16 mode). */
IpShape shapeOf(const LinearGeom &g, bool bf16, bool bias, bool bf16Dst = false) {
  dt low = bf16 ? dt::bf16 : dt::f32;
  IpShape s;
  s.src = anyDesc({g.m, g.k}, low);
  s.weights = anyDesc({g.n, g.k}, low);
  s.bias = bias ? plainDesc({g.n}) : md_t();
  s.dst = anyDesc({g.m, g.n}, bf16 && bf16Dst ? dt::bf16 : dt::f32);
  return s;
}

std::string keyOf(const LinearGeom &g, bool bf16, bool bias, bool bf16Dst = false) {
  return g.key() + (bf16 ? "b" : "f") + (bias ? "B" : "-") + (bf16 && bf16Dst ? "h" : "");
}

auto &forwardPd(const LinearGeom &g, bool bf16, bool bias, bool bf16Dst = false) {
  return cached(gFwd, keyOf(g, bf16, bias, bf16Dst), std::function<dnnl::inner_product_forward::primitive_desc()>([&] {
                  return ipFwdPd(shapeOf(g, bf16, bias, bf16Dst), makeAttr());
                }));
}

MemPtr weightsIn(Buf &w, const md_t &to) {
  makePlainInPlace(w);
  return inLayout(w, to, true);
}

/**
 * One f32 row (batch 1) reads every weight once for two flops: memory-bound. A row-streaming
 * kernel (gemv.cpp) reads the plain weights faster than the inner-product primitive does its
 * blocked copy or oneDNN's sgemm the plain ones (BENCHMARKS.md), and needs no reordered copy.
 */
Napi::Value linearRow(Napi::Env env, BufPtr x, BufPtr w, BufPtr b, const LinearGeom &g, bool relu) {
  makePlainInPlace(*x);
  makePlainInPlace(*w);
  if (b) makePlainInPlace(*b);
  const int64_t k = g.k, n = g.n;
  BufPtr y = newBuf(plainDesc({1, n}));
  MemPtr xm = x->mem, wm = w->mem, bm = b ? b->mem : nullptr, ym = y->mem;
  submit([xm, wm, bm, ym, k, n, relu] { gemvF32(xm->f32(), wm->f32(), bm ? bm->f32() : nullptr, ym->f32(), n, k, relu); });
  return wrap(env, y);
}

/** linear(x, w, b | null, geometry, {relu, bf16}). */
Napi::Value linear(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto [x, w, b, g] = LinearArgs::read(info);
  Fields opts(info[4], "linear options");
  bool relu = opts.flag("relu"), bf16 = opts.flag("bf16");
  if (g.m == 1 && !bf16) return linearRow(env, x, w, b, g, relu);
  auto &c = forwardPd(g, bf16, b != nullptr, relu);
  md_t srcMd = c.pd.src_desc(), wMd = c.pd.weights_desc();
  // A flattened conv output may still be blocked 4-D: view it as plain [m, k] (its own type) first.
  makePlainKeepType(*x);
  md_t xView = plainDesc({g.m, g.k}, descType(x->md));
  MemPtr xs = inLayout(*x, srcMd, true, &xView);
  MemPtr ws = weightsIn(*w, wMd);
  return wrap(env, submitWeightLayer(c, {{DNNL_ARG_SRC, srcMd, xs}, {DNNL_ARG_WEIGHTS, wMd, ws}}, b, relu));
}

/** linearBackwardData(gy, w, geometry, {bf16}). */
Napi::Value linearBackwardData(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "linear output gradient");
  BufPtr w = unwrap(info[1], "linear weight");
  LinearGeom g = LinearGeom::read(info[2]);
  bool bf16 = Fields(info[3], "linear options").flag("bf16");
  expectSize(info.Env(), *gy, g.m * g.n, "linear output gradient");
  expectSize(info.Env(), *w, g.n * g.k, "linear weight");
  auto &hint = forwardPd(g, bf16, false);
  IpShape s = shapeOf(g, bf16, false);
  s.src = anyDesc({g.m, g.k}, dt::f32);
  s.dst = anyDesc({g.m, g.n}, bf16 ? dt::bf16 : dt::f32);
  auto &c = cached(gBwdData, keyOf(g, bf16, false),
                   std::function<dnnl::inner_product_backward_data::primitive_desc()>(
                       [&] { return ipBwdDataPd(s, hint.pd, makeAttr()); }));
  return wrap(info.Env(), submitBackwardData(c, *gy, weightsIn(*w, c.pd.weights_desc())));
}

/**
 * Weight gradients gw [n, k] = gyᵀ [n, m] · x [m, k] as a oneDNN matmul straight into plain f32
 * (the optimiser's layout), gy read transposed in place; gb [n] = column sums of gy. The
 * inner-product primitive's weight gradient either runs a slower GEMM into plain weights or needs a
 * costly reorder of its blocked result back to plain (BENCHMARKS.md has the figures).
 * linearBackwardWeights(gy, x, geometry, {withBias, bf16}) → [gw, gb | null].
 */
Napi::Value linearBackwardWeights(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "linear output gradient");
  BufPtr x = unwrap(info[1], "linear input");
  LinearGeom g = LinearGeom::read(info[2]);
  Fields opts(info[3], "linear options");
  bool withBias = opts.flag("withBias"), bf16 = opts.flag("bf16");
  expectSize(info.Env(), *gy, g.m * g.n, "linear output gradient");
  expectSize(info.Env(), *x, g.m * g.k, "linear input");
  const int64_t m = g.m, k = g.k, n = g.n;
  dt low = bf16 ? dt::bf16 : dt::f32;
  md_t gyMd = plainDesc({m, n}, low), xMd = plainDesc({m, k}, low), gwMd = plainDesc({n, k});
  md_t gyT(dims_t{n, m}, low, dims_t{1, n}); // gy [m, n] read as its transpose
  auto &c = cached(gBwdWeights, keyOf(g, bf16, false),
                   std::function<dnnl::matmul::primitive_desc()>([&] { return matmulPd(gyT, xMd, gwMd, makeAttr()); }));
  // A flattened conv output may still be blocked 4-D: view it as plain [m, k] (its own type) first.
  makePlainKeepType(*x);
  md_t xView = plainDesc({m, k}, descType(x->md));
  MemPtr xs = inLayout(*x, xMd, true, &xView);
  makePlainKeepType(*gy); // bf16 when it comes from a bf16 hidden layer's ReLU gradient
  md_t gyView = plainDesc({m, n}, descType(gy->md));
  MemPtr dy = inLayout(*gy, gyMd, true, &gyView);
  BufPtr gw = newBuf(gwMd);
  submitPrimitive(c, {{DNNL_ARG_SRC, gyT, dy}, {DNNL_ARG_WEIGHTS, xMd, xs}, {DNNL_ARG_DST, gwMd, gw->mem}});
  BufPtr gb;
  if (withBias) {
    gb = newBuf(plainDesc({n}));
    MemPtr dyRaw = gy->mem, gbm = gb->mem;
    bool gyBf16 = isBf16(gy->md);
    submit([dyRaw, gbm, m, n, gyBf16] {
      float *out = gbm->f32();
      std::fill(out, out + n, 0.f);
      for (int64_t i = 0; i < m; i++) {
        if (gyBf16) {
          const uint16_t *d = bf16Data(dyRaw) + i * n;
          for (int64_t j = 0; j < n; j++) out[j] += bf16ToF32(d[j]);
        } else {
          const float *d = dyRaw->f32() + i * n;
          for (int64_t j = 0; j < n; j++) out[j] += d[j];
        }
      }
    });
  }
  return handlePair(info.Env(), gw, gb);
}

} // namespace

void registerLinearLowPrecision(Napi::Env env, Napi::Object exports); // linear_lowp.cpp

void registerLinear(Napi::Env env, Napi::Object exports) {
  exports.Set("linear", Napi::Function::New(env, linear));
  exports.Set("linearBackwardData", Napi::Function::New(env, linearBackwardData));
  exports.Set("linearBackwardWeights", Napi::Function::New(env, linearBackwardWeights));
  registerLinearLowPrecision(env, exports);
}

} // namespace ax
