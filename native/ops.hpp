// Registration of every op family's JS functions (one file per family) and shared helpers.
#pragma once

#include "core.hpp"
#include "nonfinite.hpp"

namespace ax {

void registerMemory(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerConv(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerLrn(Napi::Env env, Napi::Object exports);
void registerLinear(Napi::Env env, Napi::Object exports);
void registerLoss(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);
void registerInt8(Napi::Env env, Napi::Object exports);

/** y [n] = w [n, k] · x [k] + bias (bias may be null), then ReLU if `relu` (NaN kept): batch 1, on the OpenMP threads (gemv.cpp). */
void gemvF32(const float *x, const float *w, const float *bias, float *y, int64_t n, int64_t k, bool relu);

/** `b` as plain f32 memory (a reorder is enqueued when it is blocked or bf16; not cached). */
inline MemPtr plainF32(Buf &b) { return inLayout(b, plainDesc(descDims(b.md), dt::f32), false); }

// ---- bf16 activations: a buffer's storage type is internal (JS always sees f32 values) ----------

inline bool isBf16(const md_t &md) { return descType(md) == dt::bf16; }
/** Physical elements of a layout in its own type (blocked layouts' padding included). */
inline int64_t physicalElements(const md_t &md) { return static_cast<int64_t>(md.get_size() / (isBf16(md) ? 2 : 4)); }
inline uint16_t *bf16Data(const MemPtr &m) { return static_cast<uint16_t *>(m->ptr); }

/** b's row-major descriptor in b's own element type. */
inline md_t plainOwnType(const Buf &b) { return plainDesc(descDims(b.md), descType(b.md)); }

/** Makes b row-major, keeping its element type (a bf16 activation stays bf16; reorders once). */
inline void makePlainKeepType(Buf &b) {
  md_t plain = plainOwnType(b);
  if (b.md == plain) return;
  MemPtr m = inLayout(b, plain, false);
  b.mem = m;
  b.md = plain;
  b.cache.clear();
}

/** A JS number argument (throws a TypeError naming it otherwise). */
inline double num(const Napi::Value &v, const char *what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

/** [a, b] for JS, b null when absent (an output and its workspace, or gw and gb). */
inline Napi::Array handlePair(Napi::Env env, BufPtr a, BufPtr b) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, wrap(env, std::move(a)));
  out.Set(1u, b ? wrap(env, std::move(b)) : env.Null());
  return out;
}

/**
 * Queues a convolution or inner-product forward (`c` cached, `args` holding src and weights):
 * adds the bias (made plain) and a new dst (f32 or bf16, as c's dst), and applies ReLU to dst in
 * the same task when asked.
 */
template <class Cached> BufPtr submitWeightLayer(const Cached &c, std::vector<Arg> args, const BufPtr &b, bool relu) {
  if (b) {
    makePlainInPlace(*b);
    args.push_back({DNNL_ARG_BIAS, b->md, b->mem});
  }
  md_t dstMd = c.pd.dst_desc();
  BufPtr y = newBuf(dstMd);
  MemPtr ym = y->mem;
  args.push_back({DNNL_ARG_DST, dstMd, ym});
  int64_t count = physicalElements(dstMd);
  bool bf16 = isBf16(dstMd);
  submitPrimitive(c, std::move(args), [relu, bf16, ym, count] {
    if (relu && bf16) reluLoopBf16(bf16Data(ym), bf16Data(ym), count);
    else if (relu) reluLoop(ym->f32(), ym->f32(), count);
  });
  return y;
}

/** Queues a convolution or inner-product backward-data pass (weights already in c's layout); returns diff_src. */
template <class Cached> BufPtr submitBackwardData(const Cached &c, Buf &gy, const MemPtr &weights) {
  md_t dyMd = c.pd.diff_dst_desc(), dxMd = c.pd.diff_src_desc();
  MemPtr dy = inLayout(gy, dyMd, true);
  BufPtr dx = newBuf(dxMd);
  submitPrimitive(c, {{DNNL_ARG_DIFF_DST, dyMd, dy}, {DNNL_ARG_WEIGHTS, c.pd.weights_desc(), weights}, {DNNL_ARG_DIFF_SRC, dxMd, dx->mem}});
  return dx;
}

/** An output and the workspace its backward pass needs (null outside training). */
struct WithWorkspace {
  BufPtr y, ws;
};

/**
 * Queues a pooling or LRN forward of x (its own layout): a new dst and, in training, a workspace;
 * `after(dstMemory)` runs in the same task once the primitive has (the NaN/inf fix-ups).
 */
template <class Cached, class After> WithWorkspace submitWithWorkspace(const Cached &c, const Buf &x, bool training, After after) {
  md_t dstMd = c.pd.dst_desc();
  WithWorkspace out{newBuf(dstMd), nullptr};
  MemPtr ym = out.y->mem;
  std::vector<Arg> args = {{DNNL_ARG_SRC, x.md, x.mem}, {DNNL_ARG_DST, dstMd, ym}};
  if (training) {
    md_t wsMd = c.pd.workspace_desc();
    out.ws = newBuf(wsMd);
    if (wsMd.get_size() > 0) args.push_back({DNNL_ARG_WORKSPACE, wsMd, out.ws->mem});
  }
  submitPrimitive(c, std::move(args), [after, ym] { after(ym); });
  return out;
}

} // namespace ax
