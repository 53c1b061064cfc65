// Convolution forward (bias + fused ReLU post-op), backward data and backward weights.
// oneDNN picks the layouts (format_tag::any): the blocked dst stays as the next layer's input,
// weights are reordered once per write (cached on the weight buffer), inputs and output
// gradients once per use by forward and both backward passes. In bf16 mode the activations and
// their gradients are bf16 (src, dst, diff_dst, diff_src: as PyTorch's autocast keeps them, and
// the next layer takes them with no conversion) while weight and bias gradients stay f32 (the SGD
// update works on f32 master weights). A ReLU runs on the output right after the convolution, in
// the same task (not as oneDNN's post-op, which turns NaN into 0). Geometry is a ConvGeometry object (geometry.hpp), options an object of booleans.
#include <cstdlib>

#include "geometry.hpp"
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

using Geom = ConvGeom;

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
  s.dst = anyDesc({g.n, g.oc, g.oh, g.ow}, low);
  s.strides = {g.sh, g.sw};
  s.padL = {g.ph, g.pw};
  s.padR = {g.ph, g.pw};
  return s;
}

std::string keyOf(const char *kind, const Geom &g, bool bf16, bool bias) {
  return std::string(kind) + g.key() + (bf16 ? "b" : "f") + (bias ? "B" : "-");
}

/**
 * Winograd F(4x4, 3x3) for the forward pass of f32 3x3 stride-1 ungrouped convolutions: faster
 * than the direct kernels from batch 2 on (slower at batch 1; BENCHMARKS.md has the figures),
 * with forward activations within 1e-6 of the direct algorithm. It is used for inference (the
 * caller says no backward follows) and, with ALEXNET_CONV_WINOGRAD=1, in training too. Not by
 * default in training: its different rounding flips max-pool near-ties (values equal to 1e-7),
 * which moves whole gradient entries, so training would no longer follow PyTorch's (direct)
 * numbers step for step. Backward passes never use Winograd. With a NaN or inf in a tile its
 * transforms spread it further than a direct convolution would, so the conformance suite checks
 * non-finite inputs on convolutions that do not qualify.
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

auto &forwardPd(const Geom &g, bool bf16, bool bias, bool inference = false) {
  return cached(gFwd, keyOf(inference ? "fi" : "f", g, bf16, bias),
                std::function<dnnl::convolution_forward::primitive_desc()>([&] {
                  ConvShape s = shapeOf(g, bf16, bias);
                  s.inference = inference;
                  return withBestAlgorithm<dnnl::convolution_forward::primitive_desc>(
                      g, bf16, s,
                      [&](const ConvShape &s, bool allowEmpty) { return convFwdPd(s, makeAttr(), allowEmpty); }, true,
                      inference);
                }));
}

/** The weights of `w` (plain [oc, c/g, kh, kw]) in the layout `to`, reordered once per write. */
MemPtr weightsIn(Buf &w, const Geom &g, const md_t &to) {
  makePlainInPlace(w);
  md_t view = plainDesc(weightDims(g));
  return inLayout(w, to, true, &view);
}

/** conv2d(x, w, b | null, geometry, {relu, bf16, inference}): `inference` allows Winograd. */
Napi::Value conv2d(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  BufPtr x = unwrap(info[0], "conv2d input");
  BufPtr w = unwrap(info[1], "conv2d weight");
  BufPtr b = unwrapOrNull(info[2], "conv2d bias");
  Geom g = Geom::read(info[3]);
  Fields opts(info[4], "conv2d options");
  bool relu = opts.flag("relu"), bf16 = opts.flag("bf16"), inference = opts.flag("inference");
  expectSize(env, *x, g.xCount, "conv2d input");
  expectSize(env, *w, g.wCount, "conv2d weight");
  if (b) expectSize(env, *b, g.oc, "conv2d bias");
  auto &c = forwardPd(g, bf16, b != nullptr, inference);
  md_t srcMd = c.pd.src_desc(), wMd = c.pd.weights_desc();
  MemPtr xs = inLayout(*x, srcMd, true);
  MemPtr ws = weightsIn(*w, g, wMd);
  return wrap(env, submitWeightLayer(c, {{DNNL_ARG_SRC, srcMd, xs}, {DNNL_ARG_WEIGHTS, wMd, ws}}, b, relu));
}

/** conv2dBackwardData(gy, w, geometry, {bf16}). */
Napi::Value conv2dBackwardData(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "conv2d output gradient");
  BufPtr w = unwrap(info[1], "conv2d weight");
  Geom g = Geom::read(info[2]);
  bool bf16 = Fields(info[3], "conv2d options").flag("bf16");
  expectSize(info.Env(), *gy, g.yCount, "conv2d output gradient");
  expectSize(info.Env(), *w, g.wCount, "conv2d weight");
  auto &hint = forwardPd(g, bf16, false);
  ConvShape s = shapeOf(g, bf16, false); // diff_src and diff_dst in the activations' type
  auto &c = cached(gBwdData, keyOf("d", g, bf16, false),
                   std::function<dnnl::convolution_backward_data::primitive_desc()>(
                       [&] {
                         return withBestAlgorithm<dnnl::convolution_backward_data::primitive_desc>(
                             g, bf16, s, [&](const ConvShape &t, bool allowEmpty) {
                               return convBwdDataPd(t, hint.pd, makeAttr(), allowEmpty);
                             }, false);
                       }));
  return wrap(info.Env(), submitBackwardData(c, *gy, weightsIn(*w, g, c.pd.weights_desc())));
}

/** conv2dBackwardWeights(gy, x, geometry, {withBias, bf16}) → [gw, gb | null]. */
Napi::Value conv2dBackwardWeights(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "conv2d output gradient");
  BufPtr x = unwrap(info[1], "conv2d input");
  Geom g = Geom::read(info[2]);
  Fields opts(info[3], "conv2d options");
  bool withBias = opts.flag("withBias"), bf16 = opts.flag("bf16");
  expectSize(info.Env(), *gy, g.yCount, "conv2d output gradient");
  expectSize(info.Env(), *x, g.xCount, "conv2d input");
  auto &hint = forwardPd(g, bf16, withBias);
  ConvShape s = shapeOf(g, bf16, withBias);
  s.weights = anyDesc(weightDims(g), dt::f32); // diff_weights stay f32 (master weights)
  auto &c = cached(gBwdWeights, keyOf("w", g, bf16, withBias),
                   std::function<dnnl::convolution_backward_weights::primitive_desc()>(
                       [&] {
                         return withBestAlgorithm<dnnl::convolution_backward_weights::primitive_desc>(
                             g, bf16, s, [&](const ConvShape &t, bool allowEmpty) {
                               return convBwdWeightsPd(t, hint.pd, makeAttr(), allowEmpty);
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
  return handlePair(info.Env(), gw, gb);
}

} // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, conv2d));
  exports.Set("conv2dBackwardData", Napi::Function::New(env, conv2dBackwardData));
  exports.Set("conv2dBackwardWeights", Napi::Function::New(env, conv2dBackwardWeights));
}

} // namespace ax
