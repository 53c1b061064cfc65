// Max pooling forward/backward over oneDNN (src kept in the incoming, maybe blocked, layout;
// oneDNN's workspace kept for backward) and adaptive average pooling as plain loops.
//
// Max-pool geometry g (14 ints): [n, c, h, w, kh, kw, oh, ow, strideH, strideW, padH, padW,
// padBottom, padRight]; padBottom/padRight already include ceil mode's extra padding.
#include <algorithm>
#include <limits>

#include "ops.hpp"

namespace ax {

namespace {

std::unordered_map<std::string, Cached<PoolFwdPd, PoolFwd>> gFwd;
std::unordered_map<std::string, Cached<PoolBwdPd, PoolBwd>> gBwd;

PoolShape shapeOf(const std::vector<int64_t> &g, const md_t &src) {
  PoolShape s;
  s.src = src;
  s.dst = anyDesc({g[0], g[1], g[6], g[7]}, descType(src));
  s.strides = {g[8], g[9]};
  s.kernel = {g[4], g[5]};
  s.padL = {g[10], g[11]};
  s.padR = {g[12], g[13]};
  return s;
}

auto &forwardPd(const std::vector<int64_t> &g, const md_t &src, bool training) {
  std::string key = joinInts(g) + (training ? "T" : "I") + descKey(src);
  return cached(gFwd, key, std::function<PoolFwdPd()>([&] { return poolFwdPd(shapeOf(g, src), training, makeAttr(false)); }));
}

struct PoolOut {
  BufPtr y, ws;
};

PoolOut runForward(Buf &x, const std::vector<int64_t> &g, bool training) {
  auto &c = forwardPd(g, x.md, training);
  md_t dstMd = c.pd.dst_desc();
  PoolOut out{newBuf(dstMd), nullptr};
  std::vector<Arg> args = {{DNNL_ARG_SRC, x.md, x.mem}, {DNNL_ARG_DST, dstMd, out.y->mem}};
  if (training) {
    md_t wsMd = c.pd.workspace_desc();
    out.ws = newBuf(wsMd);
    if (wsMd.get_size() > 0) args.push_back({DNNL_ARG_WORKSPACE, wsMd, out.ws->mem});
  }
  submitPrimitive(c, std::move(args));
  return out;
}

Napi::Value maxPool2d(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "max_pool2d input");
  auto g = ints(info[1], 14, "pool geometry");
  bool training = info[2].ToBoolean();
  PoolOut o = runForward(*x, g, training);
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, wrap(env, o.y));
  out.Set(1u, o.ws ? wrap(env, o.ws) : env.Null());
  return out;
}

Napi::Value maxPool2dBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "max_pool2d output gradient");
  BufPtr x = unwrap(info[1], "max_pool2d input");
  BufPtr ws = unwrapOrNull(info[2], "max_pool2d workspace");
  auto g = ints(info[3], 14, "pool geometry");
  if (!ws) ws = runForward(*x, g, true).ws; // forward ran in inference mode: recompute the argmax
  auto &hint = forwardPd(g, x->md, true);
  std::string key = joinInts(g) + descKey(x->md);
  auto &c = cached(gBwd, key, std::function<PoolBwdPd()>([&] {
                     PoolShape s = shapeOf(g, x->md);
                     return poolBwdPd(s, hint.pd, makeAttr(false));
                   }));
  md_t dyMd = c.pd.diff_dst_desc(), dxMd = c.pd.diff_src_desc(), wsMd = c.pd.workspace_desc();
  MemPtr dy = inLayout(*gy, dyMd, false);
  BufPtr dx = newBuf(dxMd);
  std::vector<Arg> args = {{DNNL_ARG_DIFF_DST, dyMd, dy}, {DNNL_ARG_DIFF_SRC, dxMd, dx->mem}};
  if (wsMd.get_size() > 0) args.push_back({DNNL_ARG_WORKSPACE, wsMd, ws->mem});
  submitPrimitive(c, std::move(args));
  return wrap(info.Env(), dx);
}

// ---- adaptive average pooling (PyTorch windows [floor(i*H/OH), ceil((i+1)*H/OH))) ----------------

int64_t winStart(int64_t i, int64_t in, int64_t out) { return (i * in) / out; }
int64_t winEnd(int64_t i, int64_t in, int64_t out) { return ((i + 1) * in + out - 1) / out; }

Napi::Value adaptiveAvgPool2d(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "adaptive_avg_pool2d input");
  auto g = ints(info[1], 6, "adaptive pool geometry"); // n, c, h, w, oh, ow
  if (g[2] == g[4] && g[3] == g[5]) {
    // One-element windows (torchvision's 6x6 pool on a 6x6 map): a copy, in x's own layout.
    return wrap(info.Env(), copyOf(*x));
  }
  MemPtr xs = plainF32(*x);
  BufPtr y = newBuf(plainDesc({g[0], g[1], g[4], g[5]}));
  MemPtr ym = y->mem;
  submit([g, xs, ym] {
    int64_t planes = g[0] * g[1], h = g[2], w = g[3], oh = g[4], ow = g[5];
    const float *src = xs->f32();
    float *dst = ym->f32();
#pragma omp parallel for
    for (int64_t p = 0; p < planes; p++) {
      for (int64_t i = 0; i < oh; i++) {
        int64_t h0 = winStart(i, h, oh), h1 = winEnd(i, h, oh);
        for (int64_t j = 0; j < ow; j++) {
          int64_t w0 = winStart(j, w, ow), w1 = winEnd(j, w, ow);
          double s = 0;
          for (int64_t a = h0; a < h1; a++)
            for (int64_t b = w0; b < w1; b++) s += src[(p * h + a) * w + b];
          dst[(p * oh + i) * ow + j] = static_cast<float>(s / double((h1 - h0) * (w1 - w0)));
        }
      }
    }
  });
  return wrap(info.Env(), y);
}

Napi::Value adaptiveAvgPool2dBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "adaptive_avg_pool2d output gradient");
  auto g = ints(info[1], 6, "adaptive pool geometry");
  MemPtr dys = plainF32(*gy);
  BufPtr dx = newBuf(plainDesc({g[0], g[1], g[2], g[3]}));
  MemPtr dxm = dx->mem;
  submit([g, dys, dxm] {
    int64_t planes = g[0] * g[1], h = g[2], w = g[3], oh = g[4], ow = g[5];
    const float *dy = dys->f32();
    float *out = dxm->f32();
#pragma omp parallel for
    for (int64_t p = 0; p < planes; p++) {
      std::fill(out + p * h * w, out + (p + 1) * h * w, 0.f);
      for (int64_t i = 0; i < oh; i++) {
        int64_t h0 = winStart(i, h, oh), h1 = winEnd(i, h, oh);
        for (int64_t j = 0; j < ow; j++) {
          int64_t w0 = winStart(j, w, ow), w1 = winEnd(j, w, ow);
          float share = dy[(p * oh + i) * ow + j] / float((h1 - h0) * (w1 - w0));
          for (int64_t a = h0; a < h1; a++)
            for (int64_t b = w0; b < w1; b++) out[(p * h + a) * w + b] += share;
        }
      }
    }
  });
  return wrap(info.Env(), dx);
}

} // namespace

void registerPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool2d", Napi::Function::New(env, maxPool2d));
  exports.Set("maxPool2dBackward", Napi::Function::New(env, maxPool2dBackward));
  exports.Set("adaptiveAvgPool2d", Napi::Function::New(env, adaptiveAvgPool2d));
  exports.Set("adaptiveAvgPool2dBackward", Napi::Function::New(env, adaptiveAvgPool2dBackward));
}

} // namespace ax
