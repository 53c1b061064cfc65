// Inference-only linear layers with low-precision weights (the classifier of an f32 model): the
// f32 weights stay the master copy; a bf16 or int8 copy is made once per write of the weights
// (cached on the weight buffer) and is what a forward pass reads. At batch 1 a linear layer reads
// every weight once for two flops, so bf16 halves and int8 quarters the bytes it reads.
//   bf16: a oneDNN matmul, x and w rounded to bf16, f32 accumulation and output.
//   int8: w per output channel symmetric (scale max|w_row| / 127), x per input row symmetric
//         (scale max|x_row| / 127, computed at run time), an s8·s8 → s32 oneDNN matmul, and
//         y = acc · sx · sw + b in f32. Per-row activation scales keep each sample's result
//         independent of the rest of its batch. An x holding NaN or an infinity is computed in
//         f32 instead (a scale cannot represent it), so non-finite values flow as in PyTorch.
// Bias and ReLU run after the matmul in the same task (ReLU keeps NaN, as in PyTorch).
#include <cmath>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

using MatmulCache = std::unordered_map<std::string, Cached<dnnl::matmul::primitive_desc, dnnl::matmul>>;
MatmulCache gMatmul;

/** The matmul x [m, k] · w [k, n] → y [m, n]: `low` inputs, f32 (bf16) or s32 (int8) output. */
auto &matmulFor(const LinearGeom &g, dt low) {
  dt acc = low == dt::s8 ? dt::s32 : dt::f32;
  std::string key = g.key() + (low == dt::s8 ? "i8" : "bf");
  return cached(gMatmul, key, std::function<dnnl::matmul::primitive_desc()>([&] {
                  return matmulPd(plainDesc({g.m, g.k}, low), anyDesc({g.k, g.n}, low), plainDesc({g.m, g.n}, acc), makeAttr());
                }));
}

/** w [n, k] (plain) read as its transpose [k, n], of element type `type`. */
md_t transposedView(const LinearGeom &g, dt type) { return md_t(dims_t{g.k, g.n}, type, dims_t{1, g.k}); }

/** y = y + b, then ReLU, over m rows of n (NaN stays NaN). */
void biasRelu(float *y, const float *bias, int64_t m, int64_t n, bool relu) {
  for (int64_t i = 0; i < m; i++) {
    float *row = y + i * n;
    for (int64_t j = 0; j < n; j++) {
      float v = row[j] + (bias ? bias[j] : 0.f);
      row[j] = relu && v < 0.f ? 0.f : v;
    }
  }
}

/**
 * The int8 weights in the matmul's layout followed by n f32 scales (one allocation, so that it
 * is cached on the weight buffer as one entry, valid until the f32 weights are written).
 */
MemPtr int8Weights(Buf &w, const LinearGeom &g, const md_t &wMd) {
  std::string key = "int8|" + descKey(wMd);
  if (MemPtr hit = findCached(w, key)) return hit;
  const size_t wBytes = (wMd.get_size() + 63) / 64 * 64;
  auto out = std::make_shared<Mem>(wBytes + static_cast<size_t>(g.n) * sizeof(float));
  MemPtr wf = w.mem;
  const int64_t n = g.n, k = g.k;
  md_t from = transposedView(g, dt::s8), to = wMd;
  Written written = storeCached(w, key, wMd, out);
  submit([wf, out, n, k, wBytes, from, to, written] {
    auto plain = std::make_shared<Mem>(static_cast<size_t>(n * k));
    auto *q = static_cast<int8_t *>(plain->ptr);
    auto *scales = reinterpret_cast<float *>(static_cast<char *>(out->ptr) + wBytes);
    const float *src = wf->f32();
#pragma omp parallel for
    for (int64_t j = 0; j < n; j++) {
      const float *row = src + j * k;
      float amax = 0.f;
      for (int64_t i = 0; i < k; i++) amax = std::max(amax, std::fabs(row[i]));
      // A row with NaN or inf cannot be scaled: its scale is NaN, so its outputs are NaN.
      bool finite = std::isfinite(amax);
      for (int64_t i = 0; i < k && finite; i++) finite = std::isfinite(row[i]);
      float s = !finite ? NAN : amax > 0.f ? amax / 127.f : 1.f;
      scales[j] = s;
      for (int64_t i = 0; i < k; i++)
        q[j * k + i] = finite ? static_cast<int8_t>(std::nearbyint(std::min(127.f, std::max(-127.f, row[i] / s)))) : 0;
    }
    reorderNow(from, plain, to, out); // the matmul's layout (with its s8·s8 compensation)
    written->store(true);
  });
  return out;
}

/** x [m, k] f32 → s8 per row, with the row scales; false (nothing written) if x holds NaN or inf. */
bool quantizeRows(const float *x, int64_t m, int64_t k, int8_t *q, float *scales) {
  if (anyNonFinite(x, m * k)) return false;
  for (int64_t i = 0; i < m; i++) {
    const float *row = x + i * k;
    float amax = 0.f;
    for (int64_t t = 0; t < k; t++) amax = std::max(amax, std::fabs(row[t]));
    float s = amax > 0.f ? amax / 127.f : 1.f, inv = 1.f / s;
    scales[i] = s;
    for (int64_t t = 0; t < k; t++) q[i * k + t] = static_cast<int8_t>(std::nearbyint(std::min(127.f, std::max(-127.f, row[t] * inv))));
  }
  return true;
}

/** y [m, n] = x · wᵀ in f32 (oneDNN's sgemm): the int8 path's fallback for a non-finite x. */
void sgemmRows(const float *x, const float *w, float *y, int64_t m, int64_t k, int64_t n) {
  dnnl_status_t st = dnnl_sgemm('N', 'T', m, n, k, 1.f, x, k, w, k, 0.f, y, n);
  if (st != dnnl_success) throw std::runtime_error("linear: dnnl_sgemm failed with status " + std::to_string(static_cast<int>(st)));
}

Napi::Value linearBf16(Napi::Env env, Buf &x, Buf &w, const BufPtr &b, const LinearGeom &g, bool relu) {
  auto &c = matmulFor(g, dt::bf16);
  md_t srcMd = c.pd.src_desc(), wMd = c.pd.weights_desc(), dstMd = c.pd.dst_desc();
  md_t xView = plainDesc({g.m, g.k}), wView = transposedView(g, dt::f32);
  MemPtr xs = inLayout(x, srcMd, false, &xView);
  MemPtr ws = inLayout(w, wMd, true, &wView);
  BufPtr y = newBuf(dstMd);
  MemPtr ym = y->mem, bm = b ? b->mem : nullptr;
  const int64_t m = g.m, n = g.n;
  submitPrimitive(c, {{DNNL_ARG_SRC, srcMd, xs}, {DNNL_ARG_WEIGHTS, wMd, ws}, {DNNL_ARG_DST, dstMd, ym}},
                  [ym, bm, m, n, relu] { biasRelu(ym->f32(), bm ? bm->f32() : nullptr, m, n, relu); });
  return wrap(env, y);
}

Napi::Value linearInt8(Napi::Env env, Buf &x, Buf &w, const BufPtr &b, const LinearGeom &g, bool relu) {
  auto &c = matmulFor(g, dt::s8);
  md_t srcMd = c.pd.src_desc(), wMd = c.pd.weights_desc(), accMd = c.pd.dst_desc();
  MemPtr wq = int8Weights(w, g, wMd);
  const size_t wBytes = (wMd.get_size() + 63) / 64 * 64;
  BufPtr y = newBuf(plainDesc({g.m, g.n}));
  MemPtr xm = x.mem, wf = w.mem, ym = y->mem, bm = b ? b->mem : nullptr;
  dnnl::primitive prim = c.prim;
  md_t scratch = c.pd.scratchpad_desc();
  const int64_t m = g.m, k = g.k, n = g.n;
  submit([=] {
    auto xq = std::make_shared<Mem>(static_cast<size_t>(m * k));
    std::vector<float> sx(static_cast<size_t>(m));
    float *yv = ym->f32();
    if (!quantizeRows(xm->f32(), m, k, static_cast<int8_t *>(xq->ptr), sx.data())) {
      sgemmRows(xm->f32(), wf->f32(), yv, m, k, n);
    } else {
      auto acc = std::make_shared<Mem>(accMd.get_size());
      execPrimitive(prim, {{DNNL_ARG_SRC, srcMd, xq}, {DNNL_ARG_WEIGHTS, wMd, wq}, {DNNL_ARG_DST, accMd, acc}}, scratch);
      const auto *a = static_cast<const int32_t *>(acc->ptr);
      const auto *sw = reinterpret_cast<const float *>(static_cast<const char *>(wq->ptr) + wBytes);
      for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) yv[i * n + j] = static_cast<float>(a[i * n + j]) * (sx[i] * sw[j]);
    }
    biasRelu(yv, bm ? bm->f32() : nullptr, m, n, relu);
  });
  return wrap(env, y);
}

/** linearLowPrecision(x, w, b | null, geometry, {relu, int8}): bf16 weights, or int8 with `int8`. */
Napi::Value linearLowPrecision(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto [x, w, b, g] = LinearArgs::read(info);
  Fields opts(info[4], "linear options");
  bool relu = opts.flag("relu"), int8 = opts.flag("int8");
  // A flattened conv output may still be blocked 4-D: plain first (as plain [m, k]).
  makePlainInPlace(*x);
  makePlainInPlace(*w);
  if (b) makePlainInPlace(*b);
  return int8 ? linearInt8(env, *x, *w, b, g, relu) : linearBf16(env, *x, *w, b, g, relu);
}

} // namespace

void registerLinearLowPrecision(Napi::Env env, Napi::Object exports) {
  exports.Set("linearLowPrecision", Napi::Function::New(env, linearLowPrecision));
}

} // namespace ax
