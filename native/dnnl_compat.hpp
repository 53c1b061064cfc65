// The one thin layer over oneDNN's C++ API. Every primitive descriptor the addon builds is made
// here, so that the v2 API (op descriptor -> primitive descriptor, Debian bookworm's 2.6) and the
// v3 API (primitive descriptors built directly) differ only inside this file
// (`#if DNNL_VERSION_MAJOR >= 3`). Callers deal in memory descriptors, dims and attributes.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstring>
#include <string>

namespace ax {

using dnnl::memory;
using md_t = dnnl::memory::desc;
using dims_t = dnnl::memory::dims;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine &cpuEngine();
dnnl::stream &cpuStream();

/**
 * Attributes every primitive gets: a user scratchpad. No fused ReLU post-op: oneDNN's computes
 * max(x, 0) with the operand order that turns NaN into 0, where PyTorch keeps NaN (nonfinite.hpp).
 */
inline dnnl::primitive_attr makeAttr() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/** Bytes that identify a memory descriptor (for cache keys and layout equality). */
inline std::string descKey(const md_t &md) {
#if DNNL_VERSION_MAJOR >= 3
  std::string k = std::to_string(static_cast<int>(md.get_data_type())) + ":";
  for (auto d : md.get_dims()) k += std::to_string(d) + ",";
  k += "s";
  for (auto d : md.get_strides()) k += std::to_string(d) + ",";
  k += "b";
  for (auto d : md.get_inner_blks()) k += std::to_string(d) + ",";
  k += "i";
  for (auto d : md.get_inner_idxs()) k += std::to_string(d) + ",";
  return k;
#else
  return std::string(reinterpret_cast<const char *>(&md.data), sizeof(md.data));
#endif
}

inline int descNdims(const md_t &md) {
#if DNNL_VERSION_MAJOR >= 3
  return md.get_ndims();
#else
  return md.data.ndims;
#endif
}

inline dims_t descDims(const md_t &md) {
#if DNNL_VERSION_MAJOR >= 3
  return md.get_dims();
#else
  return md.dims();
#endif
}

inline dt descType(const md_t &md) {
#if DNNL_VERSION_MAJOR >= 3
  return md.get_data_type();
#else
  return md.data_type();
#endif
}

/** Row-major (plain) descriptor of `dims`. */
inline md_t plainDesc(const dims_t &dims, dt type = dt::f32) {
  dims_t strides(dims.size());
  memory::dim s = 1;
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  return md_t(dims, type, strides);
}

inline md_t anyDesc(const dims_t &dims, dt type) { return md_t(dims, type, tag::any); }

// ---- convolution ------------------------------------------------------------------------------

struct ConvShape {
  md_t src, weights, bias, dst; // bias may be a zero desc (no bias)
  dims_t strides, padL, padR;
  dnnl::algorithm alg = dnnl::algorithm::convolution_direct;
  /** No backward follows: forward_inference, which lets oneDNN offer its inference-only kernels. */
  bool inference = false;
};

// The conv builders return an empty primitive descriptor (no exception) when `allowEmpty` is set
// and no implementation supports the request (e.g. Winograd for this shape).

inline dnnl::convolution_forward::primitive_desc convFwdPd(const ConvShape &s, const dnnl::primitive_attr &attr,
                                                          bool allowEmpty = false) {
  auto prop = s.inference ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training;
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), prop, s.alg, s.src, s.weights, s.bias,
          s.dst, s.strides, s.padL, s.padR, attr, allowEmpty};
#else
  dnnl::convolution_forward::desc d(prop, s.alg, s.src,
                                    s.weights, s.bias, s.dst, s.strides, s.padL, s.padR);
  return {d, attr, cpuEngine(), allowEmpty};
#endif
}

inline dnnl::convolution_backward_data::primitive_desc convBwdDataPd(
    const ConvShape &s, const dnnl::convolution_forward::primitive_desc &hint, const dnnl::primitive_attr &attr,
    bool allowEmpty = false) {
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), s.alg, s.src, s.weights, s.dst, s.strides, s.padL, s.padR, hint, attr, allowEmpty};
#else
  dnnl::convolution_backward_data::desc d(s.alg, s.src, s.weights, s.dst, s.strides,
                                          s.padL, s.padR);
  return {d, attr, cpuEngine(), hint, allowEmpty};
#endif
}

inline dnnl::convolution_backward_weights::primitive_desc convBwdWeightsPd(
    const ConvShape &s, const dnnl::convolution_forward::primitive_desc &hint, const dnnl::primitive_attr &attr,
    bool allowEmpty = false) {
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), s.alg, s.src, s.weights, s.bias, s.dst, s.strides, s.padL, s.padR, hint, attr, allowEmpty};
#else
  dnnl::convolution_backward_weights::desc d(s.alg, s.src, s.weights, s.bias, s.dst,
                                             s.strides, s.padL, s.padR);
  return {d, attr, cpuEngine(), hint, allowEmpty};
#endif
}

// ---- max pooling ------------------------------------------------------------------------------

struct PoolShape {
  md_t src, dst;
  dims_t strides, kernel, padL, padR;
};

#if DNNL_VERSION_MAJOR >= 3
using PoolFwdPd = dnnl::pooling_forward::primitive_desc;
using PoolBwdPd = dnnl::pooling_backward::primitive_desc;
using PoolFwd = dnnl::pooling_forward;
using PoolBwd = dnnl::pooling_backward;
#else
using PoolFwdPd = dnnl::pooling_v2_forward::primitive_desc;
using PoolBwdPd = dnnl::pooling_v2_backward::primitive_desc;
using PoolFwd = dnnl::pooling_v2_forward;
using PoolBwd = dnnl::pooling_v2_backward;
#endif

inline PoolFwdPd poolFwdPd(const PoolShape &s, bool training, const dnnl::primitive_attr &attr) {
  auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  dims_t dilation(s.strides.size(), 0);
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), prop, dnnl::algorithm::pooling_max, s.src, s.dst, s.strides, s.kernel, dilation, s.padL, s.padR, attr};
#else
  dnnl::pooling_v2_forward::desc d(prop, dnnl::algorithm::pooling_max, s.src, s.dst, s.strides, s.kernel, dilation,
                                   s.padL, s.padR);
  return {d, attr, cpuEngine()};
#endif
}

inline PoolBwdPd poolBwdPd(const PoolShape &s, const PoolFwdPd &hint, const dnnl::primitive_attr &attr) {
  dims_t dilation(s.strides.size(), 0);
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), dnnl::algorithm::pooling_max, s.src, s.dst, s.strides, s.kernel, dilation, s.padL, s.padR, hint, attr};
#else
  dnnl::pooling_v2_backward::desc d(dnnl::algorithm::pooling_max, s.src, s.dst, s.strides, s.kernel, dilation, s.padL,
                                    s.padR);
  return {d, attr, cpuEngine(), hint};
#endif
}

// ---- LRN across channels ------------------------------------------------------------------------

struct LrnShape {
  md_t data;
  memory::dim size;
  float alpha, beta, k;
};

inline dnnl::lrn_forward::primitive_desc lrnFwdPd(const LrnShape &s, bool training, const dnnl::primitive_attr &attr) {
  auto prop = training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), prop, dnnl::algorithm::lrn_across_channels, s.data, s.data, s.size, s.alpha, s.beta, s.k, attr};
#else
  dnnl::lrn_forward::desc d(prop, dnnl::algorithm::lrn_across_channels, s.data, s.size, s.alpha, s.beta, s.k);
  return {d, attr, cpuEngine()};
#endif
}

inline dnnl::lrn_backward::primitive_desc lrnBwdPd(const LrnShape &s, const dnnl::lrn_forward::primitive_desc &hint,
                                                   const dnnl::primitive_attr &attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), dnnl::algorithm::lrn_across_channels, s.data, s.data, s.data, s.size, s.alpha, s.beta, s.k, hint,
          attr};
#else
  dnnl::lrn_backward::desc d(dnnl::algorithm::lrn_across_channels, s.data, s.data, s.size, s.alpha, s.beta, s.k);
  return {d, attr, cpuEngine(), hint};
#endif
}

// ---- inner product --------------------------------------------------------------------------------

struct IpShape {
  md_t src, weights, bias, dst;
};

inline dnnl::inner_product_forward::primitive_desc ipFwdPd(const IpShape &s, const dnnl::primitive_attr &attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), dnnl::prop_kind::forward_training, s.src, s.weights, s.bias, s.dst, attr};
#else
  dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_training, s.src, s.weights, s.bias, s.dst);
  return {d, attr, cpuEngine()};
#endif
}

inline dnnl::inner_product_backward_data::primitive_desc ipBwdDataPd(
    const IpShape &s, const dnnl::inner_product_forward::primitive_desc &hint, const dnnl::primitive_attr &attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), s.src, s.weights, s.dst, hint, attr};
#else
  dnnl::inner_product_backward_data::desc d(s.src, s.weights, s.dst);
  return {d, attr, cpuEngine(), hint};
#endif
}

// ---- matmul (FMA-peak probe) -------------------------------------------------------------------------

inline dnnl::matmul::primitive_desc matmulPd(const md_t &a, const md_t &b, const md_t &c, const dnnl::primitive_attr &attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {cpuEngine(), a, b, c, attr};
#else
  dnnl::matmul::desc d(a, b, c);
  return {d, attr, cpuEngine()};
#endif
}

// ---- reorder ------------------------------------------------------------------------------------------

inline dnnl::reorder::primitive_desc reorderPd(const md_t &from, const md_t &to, const dnnl::primitive_attr &attr) {
  return {cpuEngine(), from, cpuEngine(), to, attr};
}

/** Name of the instruction set oneDNN dispatches to on this CPU. */
inline std::string effectiveIsa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
#if DNNL_VERSION_MAJOR >= 3
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
#else
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
#endif
    default: return "other";
  }
}

/** True when oneDNN runs bf16 convolutions natively here (AVX512_BF16 or AMX). */
inline bool hasNativeBf16() {
  auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

} // namespace ax
