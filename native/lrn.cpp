// Local response normalisation across channels over oneDNN. oneDNN's lrn_across_channels divides
// alpha by local_size, exactly like PyTorch's LocalResponseNorm, so alpha passes through
// unchanged (test/native_kernels.test.ts checks this against the reference backend).
// Params p (4 numbers): [size, alpha, beta, k]. Data keeps the incoming (maybe blocked) layout.
#include "ops.hpp"

namespace ax {

namespace {

std::unordered_map<std::string, Cached<dnnl::lrn_forward::primitive_desc, dnnl::lrn_forward>> gFwd;
std::unordered_map<std::string, Cached<dnnl::lrn_backward::primitive_desc, dnnl::lrn_backward>> gBwd;

LrnShape readParams(const Napi::Value &v, const md_t &data) {
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 4) throw Napi::TypeError::New(v.Env(), "native: lrn params must be [size, alpha, beta, k]");
  auto a = v.As<Napi::Array>();
  LrnShape s;
  s.data = data;
  s.size = a.Get(0u).As<Napi::Number>().Int64Value();
  s.alpha = a.Get(1u).As<Napi::Number>().FloatValue();
  s.beta = a.Get(2u).As<Napi::Number>().FloatValue();
  s.k = a.Get(3u).As<Napi::Number>().FloatValue();
  return s;
}

std::string keyOf(const LrnShape &s, bool training) {
  return descKey(s.data) + std::to_string(s.size) + "," + std::to_string(s.alpha) + "," + std::to_string(s.beta) + "," +
         std::to_string(s.k) + (training ? "T" : "I");
}

auto &forwardPd(const LrnShape &s, bool training) {
  return cached(gFwd, keyOf(s, training),
                std::function<dnnl::lrn_forward::primitive_desc()>([&] { return lrnFwdPd(s, training, makeAttr(false)); }));
}

struct LrnOut {
  BufPtr y, ws;
};

LrnOut runForward(Buf &x, const LrnShape &s, bool training) {
  auto &c = forwardPd(s, training);
  md_t dstMd = c.pd.dst_desc();
  LrnOut out{newBuf(dstMd), nullptr};
  std::vector<Arg> args = {{DNNL_ARG_SRC, x.md, x.mem}, {DNNL_ARG_DST, dstMd, out.y->mem}};
  if (training) {
    md_t wsMd = c.pd.workspace_desc();
    out.ws = newBuf(wsMd);
    if (wsMd.get_size() > 0) args.push_back({DNNL_ARG_WORKSPACE, wsMd, out.ws->mem});
  }
  submitPrimitive(c, std::move(args));
  return out;
}

Napi::Value lrn(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "lrn input");
  LrnShape s = readParams(info[1], x->md);
  bool training = info[2].ToBoolean();
  LrnOut o = runForward(*x, s, training);
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, wrap(env, o.y));
  out.Set(1u, o.ws ? wrap(env, o.ws) : env.Null());
  return out;
}

Napi::Value lrnBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "lrn output gradient");
  BufPtr x = unwrap(info[1], "lrn input");
  BufPtr ws = unwrapOrNull(info[2], "lrn workspace");
  LrnShape s = readParams(info[3], x->md);
  if (!ws) ws = runForward(*x, s, true).ws;
  auto &hint = forwardPd(s, true);
  auto &c = cached(gBwd, keyOf(s, true),
                   std::function<dnnl::lrn_backward::primitive_desc()>([&] { return lrnBwdPd(s, hint.pd, makeAttr(false)); }));
  md_t dyMd = c.pd.diff_dst_desc(), dxMd = c.pd.diff_src_desc(), wsMd = c.pd.workspace_desc();
  MemPtr dy = inLayout(*gy, dyMd, false);
  BufPtr dx = newBuf(dxMd);
  std::vector<Arg> args = {{DNNL_ARG_SRC, x->md, x->mem}, {DNNL_ARG_DIFF_DST, dyMd, dy}, {DNNL_ARG_DIFF_SRC, dxMd, dx->mem}};
  if (wsMd.get_size() > 0) args.push_back({DNNL_ARG_WORKSPACE, wsMd, ws->mem});
  submitPrimitive(c, std::move(args));
  return wrap(info.Env(), dx);
}

} // namespace

void registerLrn(Napi::Env env, Napi::Object exports) {
  exports.Set("lrn", Napi::Function::New(env, lrn));
  exports.Set("lrnBackward", Napi::Function::New(env, lrnBackward));
}

} // namespace ax
