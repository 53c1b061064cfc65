// Local response normalisation across channels over oneDNN. oneDNN's lrn_across_channels divides
// alpha by local_size, exactly like PyTorch's LocalResponseNorm, so alpha passes through
// unchanged (test/native_kernels.test.ts checks this against the reference backend).
// Params: an LrnParams object {size, alpha, beta, k}. Data keeps the incoming (maybe blocked)
// layout. oneDNN sums squares with a running window across channels, so one NaN or infinity
// poisons channels beyond its window: when the input holds one (a branch-free scan in the same
// task), the output is recomputed with PyTorch's direct formula (lrnDirect).
#include <cmath>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

std::unordered_map<std::string, Cached<dnnl::lrn_forward::primitive_desc, dnnl::lrn_forward>> gFwd;
std::unordered_map<std::string, Cached<dnnl::lrn_backward::primitive_desc, dnnl::lrn_backward>> gBwd;

LrnShape readParams(const Napi::Value &v, const md_t &data) {
  Fields f(v, "lrn params");
  LrnShape s;
  s.data = data;
  s.size = f.dim("size");
  s.alpha = static_cast<float>(f.number("alpha"));
  s.beta = static_cast<float>(f.number("beta"));
  s.k = static_cast<float>(f.number("k"));
  if (s.size % 2 == 0) throw Napi::RangeError::New(v.Env(), "native: lrn size must be odd (an even window is centred differently)");
  if (descDims(data).size() < 3) throw Napi::RangeError::New(v.Env(), "native: lrn input must be [N, C, ...spatial]");
  return s;
}

/**
 * PyTorch's LRN on plain [n, c, inner]: y = x / (k + alpha/size · Σ x²)^beta over the channels
 * [c − size/2, c + size/2], with naive sums (a NaN or inf stays inside its own windows).
 */
void lrnDirect(const float *x, float *y, const dims_t &dims, const LrnShape &s) {
  int64_t n = dims[0], c = dims[1], inner = 1, half = s.size / 2;
  for (size_t i = 2; i < dims.size(); i++) inner *= dims[i];
#pragma omp parallel for
  for (int64_t p = 0; p < n * c; p++) {
    int64_t img = p / c, ch = p % c;
    int64_t c0 = ch - half < 0 ? 0 : ch - half, c1 = ch + half + 1 > c ? c : ch + half + 1;
    for (int64_t i = 0; i < inner; i++) {
      double sum = 0;
      for (int64_t q = c0; q < c1; q++) {
        double v = x[(img * c + q) * inner + i];
        sum += v * v;
      }
      double v = x[p * inner + i];
      y[p * inner + i] = static_cast<float>(v / std::pow(s.k + s.alpha / s.size * sum, s.beta));
    }
  }
}

std::string keyOf(const LrnShape &s, bool training) {
  return descKey(s.data) + std::to_string(s.size) + "," + std::to_string(s.alpha) + "," + std::to_string(s.beta) + "," +
         std::to_string(s.k) + (training ? "T" : "I");
}

auto &forwardPd(const LrnShape &s, bool training) {
  return cached(gFwd, keyOf(s, training),
                std::function<dnnl::lrn_forward::primitive_desc()>([&] { return lrnFwdPd(s, training, makeAttr()); }));
}

/** The LRN of x (its own layout), recomputed by lrnDirect in the same task when x holds NaN or inf. */
WithWorkspace runForward(Buf &x, const LrnShape &s, bool training) {
  auto &c = forwardPd(s, training);
  md_t xMd = x.md, yMd = c.pd.dst_desc();
  MemPtr xm = x.mem;
  return submitWithWorkspace(c, x, training, [xMd, xm, yMd, s](const MemPtr &ym) {
    if (anyNonFinite(xm->f32(), physicalCount(xMd)))
      onPlainCopies(xMd, xm, yMd, ym, [&](const float *xp, float *yp) { lrnDirect(xp, yp, descDims(xMd), s); });
  });
}

/** f32 data in its own layout (a bf16 buffer is made plain f32 first). */
Buf &f32Data(Buf &x) {
  if (descType(x.md) != dt::f32) makePlainInPlace(x);
  return x;
}

/** lrn(x, params, {training}) → [y, workspace | null]. */
Napi::Value lrn(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "lrn input");
  LrnShape s = readParams(info[1], f32Data(*x).md);
  bool training = Fields(info[2], "lrn options").flag("training");
  WithWorkspace o = runForward(*x, s, training);
  return handlePair(info.Env(), o.y, o.ws);
}

/** lrnBackward(gy, x, workspace | null, params). */
Napi::Value lrnBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "lrn output gradient");
  BufPtr x = unwrap(info[1], "lrn input");
  BufPtr ws = unwrapOrNull(info[2], "lrn workspace");
  LrnShape s = readParams(info[3], f32Data(*x).md);
  if (gy->size() != x->size()) throw Napi::RangeError::New(info.Env(), "native: lrn gradient and input differ in size");
  if (!ws) ws = runForward(*x, s, true).ws;
  auto &hint = forwardPd(s, true);
  auto &c = cached(gBwd, keyOf(s, true),
                   std::function<dnnl::lrn_backward::primitive_desc()>([&] { return lrnBwdPd(s, hint.pd, makeAttr()); }));
  md_t dyMd = c.pd.diff_dst_desc(), dxMd = c.pd.diff_src_desc(), wsMd = c.pd.workspace_desc();
  if (wsMd.get_size() > 0 && ws->mem->bytes < wsMd.get_size()) throw Napi::RangeError::New(info.Env(), "native: lrn workspace does not fit the input");
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
