// Convolution forward (bias + fused ReLU post-op), backward data and backward weights.
// oneDNN picks the layouts (format_tag::any): the blocked dst stays as the next layer's input,
// weights are reordered once per write (cached on the weight buffer), inputs and output
// gradients once per use by forward and both backward passes. In bf16 mode src/weights/diff_dst
// are bf16 and every output (dst, diff_src, diff_weights, diff_bias) stays f32.
//
// Geometry array g (14 ints): [n, c, h, w, oc, kh, kw, oh, ow, strideH, strideW, padH, padW, groups].
#include <cstdlib>

#include "ops.hpp"

namespace ax {

namespace {

using FwdCache = std::unordered_map<std::string, Cached<dnnl::convolution_forward::primitive_desc, dnnl::convolution_forward>>;
using BwdDataCache =
    std::unordered_map<std::string, Cached<dnnl::convolution_backward_data::primitive_desc, dnnl::convolution_backward_data>>;
using BwdWeightsCache = std::unordered_map<std::string, Cached<dnnl::convolution_backward_weights::primitive_desc,
                                                               dnnl::convolution_backward_weights>>;
FwdCache gFwd;
BwdDataCache gBwdData;
BwdWeightsCache gBwdWeights;

struct Geom {
  int64_t n, c, h, w, oc, kh, kw, oh, ow, sh, sw, ph, pw, groups;
  std::vector<int64_t> raw;
};

Geom readGeom(const Napi::Value &v) {
  auto r = ints(v, 14, "conv geometry");
  return {r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r};
}

dims_t weightDims(const Geom &g) {
  if (g.groups > 1) return {g.groups, g.oc / g.groups, g.c / g.groups, g.kh, g.kw};
  return {g.oc, g.c, g.kh, g.kw};
}

ConvShape shapeOf(const Geom &g, bool bf16, bool bias) {
  dt low = bf16 ? dt::bf16 : dt::f32;
  ConvShape s;
  s.src = anyDesc({g.n, g.c, g.h, g.w}, low);
  s.weights = anyDesc(weightDims(g), low);
  s.bias = bias ? plainDesc({g.oc}) : md_t();
  s.dst = anyDesc({g.n, g.oc, g.oh, g.ow}, dt::f32);
  s.strides = {g.sh, g.sw};
  s.padL = {g.ph, g.pw};
  s.padR = {g.ph, g.pw};
  return s;
}

std::string keyOf(const char *kind, const Geom &g, bool bf16, bool bias, bool relu) {
  return std::string(kind) + joinInts(g.raw) + (bf16 ? "b" : "f") + (bias ? "B" : "-") + (relu ? "R" : "-");
}

/**
 * Winograd F(4x4, 3x3) for the forward pass of f32 3x3 stride-1 ungrouped convolutions. On this
 * AVX-512 CPU it ran conv3-5 of AlexNet (batch 64) in about half the time of the direct kernels
 * (bench notes, 2 threads), with forward activations within 1e-6 of the direct algorithm. It is
 * used for inference (the caller says no backward follows) and, with ALEXNET_CONV_WINOGRAD=1, in
 * training too. Not by default in training: its different rounding flips max-pool near-ties
 * (values equal to 1e-7), which moves whole gradient entries, so training would no longer follow
 * PyTorch's (direct) numbers step for step. Backward passes never use Winograd. At batch 1 the
 * direct kernels are faster (conv3-5 of alexnet: 3.7 ms against 5.9 ms here), from batch 2 on
 * Winograd is.
 */
bool winogradCandidate(const Geom &g, bool bf16, bool inference) {
  static const bool always = std::getenv("ALEXNET_CONV_WINOGRAD") != nullptr;
  static const bool never = std::getenv("ALEXNET_CONV_DIRECT") != nullptr;
  return ((inference && g.n >= 2) || always) && !never && !bf16 && g.kh == 3 && g.kw == 3 && g.sh == 1 && g.sw == 1 && g.groups == 1;
}

/** Builds with Winograd when it is a candidate and supported, else with the direct algorithm. */
template <class Pd>
Pd withBestAlgorithm(const Geom &g, bool bf16, ConvShape s, const std::function<Pd(const ConvShape &, bool)> &make,
                     bool forward, bool inference = false) {
  if (forward && winogradCandidate(g, bf16, inference)) {
    s.alg = dnnl::algorithm::convolution_winograd;
    Pd pd = make(s, true);
    if (pd) return pd;
  }
  s.alg = dnnl::algorithm::convolution_direct;
  return make(s, false);
}

auto &forwardPd(const Geom &g, bool bf16, bool bias, bool relu, bool inference = false) {
  return cached(gFwd, keyOf(inference ? "fi" : "f", g, bf16, bias, relu),
                std::function<dnnl::convolution_forward::primitive_desc()>([&] {
                  ConvShape s = shapeOf(g, bf16, bias);
                  s.inference = inference;
                  return withBestAlgorithm<dnnl::convolution_forward::primitive_desc>(
                      g, bf16, s,
                      [&](const ConvShape &s, bool allowEmpty) { return convFwdPd(s, makeAttr(relu), allowEmpty); }, true,
                      inference);
                }));
}

/** The weights of `w` (plain [oc, c/g, kh, kw]) in the layout `to`, reordered once per write. */
MemPtr weightsIn(Buf &w, const Geom &g, const md_t &to) {
  makePlainInPlace(w);
  md_t view = plainDesc(weightDims(g));
  return inLayout(w, to, true, &view);
}

Napi::Value conv2d(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "conv2d input");
  BufPtr w = unwrap(info[1], "conv2d weight");
  BufPtr b = unwrapOrNull(info[2], "conv2d bias");
  Geom g = readGeom(info[3]);
  bool relu = info[4].ToBoolean();
  bool bf16 = info[5].ToBoolean();
  bool inference = info.Length() > 6 && info[6].ToBoolean();
  auto &c = forwardPd(g, bf16, b != nullptr, relu, inference);
  md_t srcMd = c.pd.src_desc(), wMd = c.pd.weights_desc(), dstMd = c.pd.dst_desc();
  MemPtr xs = inLayout(*x, srcMd, true);
  MemPtr ws = weightsIn(*w, g, wMd);
  std::vector<Arg> args = {{DNNL_ARG_SRC, srcMd, xs}, {DNNL_ARG_WEIGHTS, wMd, ws}};
  if (b) {
    makePlainInPlace(*b);
    args.push_back({DNNL_ARG_BIAS, b->md, b->mem});
  }
  BufPtr y = newBuf(dstMd);
  args.push_back({DNNL_ARG_DST, dstMd, y->mem});
  submitPrimitive(c, std::move(args));
  return wrap(info.Env(), y);
}

Napi::Value conv2dBackwardData(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "conv2d output gradient");
  BufPtr w = unwrap(info[1], "conv2d weight");
  Geom g = readGeom(info[2]);
  bool bf16 = info[3].ToBoolean();
  auto &hint = forwardPd(g, bf16, false, false);
  ConvShape s = shapeOf(g, bf16, false);
  s.src = anyDesc({g.n, g.c, g.h, g.w}, dt::f32); // diff_src stays f32
  s.dst = anyDesc({g.n, g.oc, g.oh, g.ow}, bf16 ? dt::bf16 : dt::f32);
  auto &c = cached(gBwdData, keyOf("d", g, bf16, false, false),
                   std::function<dnnl::convolution_backward_data::primitive_desc()>(
                       [&] {
                         return withBestAlgorithm<dnnl::convolution_backward_data::primitive_desc>(
                             g, bf16, s, [&](const ConvShape &t, bool allowEmpty) {
                               return convBwdDataPd(t, hint.pd, makeAttr(false), allowEmpty);
                             }, false);
                       }));
  md_t dyMd = c.pd.diff_dst_desc(), wMd = c.pd.weights_desc(), dxMd = c.pd.diff_src_desc();
  MemPtr dy = inLayout(*gy, dyMd, true);
  MemPtr ws = weightsIn(*w, g, wMd);
  BufPtr dx = newBuf(dxMd);
  std::vector<Arg> args = {{DNNL_ARG_DIFF_DST, dyMd, dy}, {DNNL_ARG_WEIGHTS, wMd, ws}, {DNNL_ARG_DIFF_SRC, dxMd, dx->mem}};
  submitPrimitive(c, std::move(args));
  return wrap(info.Env(), dx);
}

Napi::Value conv2dBackwardWeights(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "conv2d output gradient");
  BufPtr x = unwrap(info[1], "conv2d input");
  Geom g = readGeom(info[2]);
  bool withBias = info[3].ToBoolean();
  bool bf16 = info[4].ToBoolean();
  auto &hint = forwardPd(g, bf16, withBias, false);
  ConvShape s = shapeOf(g, bf16, withBias);
  s.weights = anyDesc(weightDims(g), dt::f32); // diff_weights stay f32 (master weights)
  s.dst = anyDesc({g.n, g.oc, g.oh, g.ow}, bf16 ? dt::bf16 : dt::f32);
  auto &c = cached(gBwdWeights, keyOf("w", g, bf16, withBias, false),
                   std::function<dnnl::convolution_backward_weights::primitive_desc()>(
                       [&] {
                         return withBestAlgorithm<dnnl::convolution_backward_weights::primitive_desc>(
                             g, bf16, s, [&](const ConvShape &t, bool allowEmpty) {
                               return convBwdWeightsPd(t, hint.pd, makeAttr(false), allowEmpty);
                             }, false);
                       }));
  md_t srcMd = c.pd.src_desc(), dyMd = c.pd.diff_dst_desc(), dwMd = c.pd.diff_weights_desc();
  MemPtr xs = inLayout(*x, srcMd, true);
  MemPtr dy = inLayout(*gy, dyMd, true);
  auto dwRaw = std::make_shared<Mem>(dwMd.get_size());
  std::vector<Arg> args = {{DNNL_ARG_SRC, srcMd, xs}, {DNNL_ARG_DIFF_DST, dyMd, dy}, {DNNL_ARG_DIFF_WEIGHTS, dwMd, dwRaw}};
  BufPtr gb;
  if (withBias) {
    gb = newBuf(plainDesc({g.oc}));
    args.push_back({DNNL_ARG_DIFF_BIAS, gb->md, gb->mem});
  }
  submitPrimitive(c, std::move(args));
  // Weight gradients go back plain [oc, c/g, kh, kw] (the optimiser works on plain weights).
  md_t plainView = plainDesc(weightDims(g));
  MemPtr dw = dwRaw;
  if (!(dwMd == plainView)) {
    dw = std::make_shared<Mem>(plainView.get_size());
    reorderInto(dwMd, dwRaw, plainView, dw);
  }
  BufPtr gw = std::make_shared<Buf>(dw, plainDesc({g.oc, g.c / g.groups, g.kh, g.kw}));
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, wrap(env, gw));
  out.Set(1u, gb ? wrap(env, gb) : env.Null());
  return out;
}

} // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, conv2d));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, conv2dBackwardData));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, conv2dBackwardWeights));
}

} // namespace ax
