// Max pooling forward/backward over oneDNN (src kept in the incoming, maybe blocked or bf16, layout;
// oneDNN's workspace kept for backward) and adaptive average pooling as plain loops. oneDNN's max
// pooling skips NaN where PyTorch's returns it: when the input holds a NaN (one branch-free scan
// in the same task), the windows holding one are set to NaN afterwards. The gradient of such a
// window still goes to oneDNN's argmax among the other values (PyTorch sends it to the NaN).
// Geometry is a PoolGeometry / AdaptivePoolGeometry object (geometry.hpp).
#include <algorithm>
#include <cmath>
#include <limits>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

std::unordered_map<std::string, Cached<PoolFwdPd, PoolFwd>> gFwd;
std::unordered_map<std::string, Cached<PoolBwdPd, PoolBwd>> gBwd;

PoolShape shapeOf(const PoolGeom &g, const md_t &src) {
  PoolShape s;
  s.src = src;
  s.dst = anyDesc({g.n, g.c, g.oh, g.ow}, descType(src));
  s.strides = {g.sh, g.sw};
  s.kernel = {g.kh, g.kw};
  s.padL = {g.ph, g.pw};
  s.padR = {g.pb, g.pr};
  return s;
}

auto &forwardPd(const PoolGeom &g, const md_t &src, bool training) {
  std::string key = g.key() + (training ? "T" : "I") + descKey(src);
  return cached(gFwd, key, std::function<PoolFwdPd()>([&] { return poolFwdPd(shapeOf(g, src), training, makeAttr()); }));
}

/** y (plain [n, c, oh, ow]) = NaN at every window of x (plain [n, c, h, w]) that holds a NaN. */
void nanWindows(const float *x, float *y, const PoolGeom &g) {
#pragma omp parallel for
  for (int64_t p = 0; p < g.n * g.c; p++) {
    const float *plane = x + p * g.h * g.w;
    for (int64_t i = 0; i < g.oh; i++) {
      int64_t h0 = std::max<int64_t>(i * g.sh - g.ph, 0), h1 = std::min(i * g.sh - g.ph + g.kh, g.h);
      for (int64_t j = 0; j < g.ow; j++) {
        int64_t w0 = std::max<int64_t>(j * g.sw - g.pw, 0), w1 = std::min(j * g.sw - g.pw + g.kw, g.w);
        bool nan = false;
        for (int64_t a = h0; a < h1; a++)
          for (int64_t b = w0; b < w1; b++) nan |= plane[a * g.w + b] != plane[a * g.w + b];
        if (nan) y[(p * g.oh + i) * g.ow + j] = std::numeric_limits<float>::quiet_NaN();
      }
    }
  }
}

/**
 * The max pooling of x in x's own layout and type (f32, or bf16 between bf16 layers: max commutes
 * with rounding, so bf16 pooling equals pooling in f32 and rounding after), with NaN windows fixed
 * up in the same task.
 */
WithWorkspace runForward(Buf &x, const PoolGeom &g, bool training) {
  auto &c = forwardPd(g, x.md, training);
  md_t xMd = x.md, yMd = c.pd.dst_desc();
  MemPtr xm = x.mem;
  return submitWithWorkspace(c, x, training, [xMd, xm, yMd, g](const MemPtr &ym) {
    int64_t n = physicalElements(xMd);
    if (isBf16(xMd) ? anyNaNBf16(bf16Data(xm), n) : anyNaN(xm->f32(), n))
      onPlainCopies(xMd, xm, yMd, ym, [&g](const float *xp, float *yp) { nanWindows(xp, yp, g); });
  });
}

/** maxPool2d(x, geometry, {training}) → [y, workspace | null]. */
Napi::Value maxPool2d(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "max_pool2d input");
  PoolGeom g = PoolGeom::read(info[1]);
  bool training = Fields(info[2], "max_pool2d options").flag("training");
  expectSize(info.Env(), *x, g.xCount, "max_pool2d input");
  WithWorkspace o = runForward(*x, g, training);
  return handlePair(info.Env(), o.y, o.ws);
}

/** maxPool2dBackward(gy, x, workspace | null, geometry). */
Napi::Value maxPool2dBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "max_pool2d output gradient");
  BufPtr x = unwrap(info[1], "max_pool2d input");
  BufPtr ws = unwrapOrNull(info[2], "max_pool2d workspace");
  PoolGeom g = PoolGeom::read(info[3]);
  expectSize(info.Env(), *gy, g.yCount, "max_pool2d output gradient");
  expectSize(info.Env(), *x, g.xCount, "max_pool2d input");
  if (!ws) ws = runForward(*x, g, true).ws; // forward ran in inference mode: recompute the argmax
  auto &hint = forwardPd(g, x->md, true);
  std::string key = g.key() + descKey(x->md);
  auto &c = cached(gBwd, key, std::function<PoolBwdPd()>([&] {
                     PoolShape s = shapeOf(g, x->md);
                     return poolBwdPd(s, hint.pd, makeAttr());
                   }));
  md_t dyMd = c.pd.diff_dst_desc(), dxMd = c.pd.diff_src_desc(), wsMd = c.pd.workspace_desc();
  if (wsMd.get_size() > 0 && ws->mem->bytes < wsMd.get_size()) throw Napi::RangeError::New(info.Env(), "native: max_pool2d workspace does not fit the geometry");
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
  AdaptiveGeom g = AdaptiveGeom::read(info[1]);
  expectSize(info.Env(), *x, g.xCount, "adaptive_avg_pool2d input");
  if (g.h == g.oh && g.w == g.ow) {
    // One-element windows (torchvision's 6x6 pool on a 6x6 map): a copy, in x's own layout.
    return wrap(info.Env(), copyOf(*x));
  }
  MemPtr xs = plainF32(*x);
  BufPtr y = newBuf(plainDesc({g.n, g.c, g.oh, g.ow}));
  MemPtr ym = y->mem;
  submit([g, xs, ym] {
    int64_t planes = g.n * g.c, h = g.h, w = g.w, oh = g.oh, ow = g.ow;
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
  AdaptiveGeom g = AdaptiveGeom::read(info[1]);
  expectSize(info.Env(), *gy, g.yCount, "adaptive_avg_pool2d output gradient");
  MemPtr dys = plainF32(*gy);
  BufPtr dx = newBuf(plainDesc({g.n, g.c, g.h, g.w}));
  MemPtr dxm = dx->mem;
  submit([g, dys, dxm] {
    int64_t planes = g.n * g.c, h = g.h, w = g.w, oh = g.oh, ow = g.ow;
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
