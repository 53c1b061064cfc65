// One in-place SGD step with PyTorch's rule, on the plain f32 master weights:
//   d = g + wd·p;  buf = first ? d : momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf (when momentum ≠ 0);  p −= lr·d.
// Writing the parameter invalidates its cached reordered (blocked/f32) copies, except the bf16
// copies of the weights the layers read in bf16 mode: they are rewritten in the same task and stay
// valid for the new values, so the next forward pass reorders nothing. A copy whose rows (the last
// dimension) are long (a linear layer's weights) is written row by row inside the update, each row
// rounded to nearest even (as oneDNN's reorder does) and scattered through the layout's offset
// tables while it is still in cache; other copies (a convolution's short kw rows) by oneDNN's
// reorder after the update, which measured faster for them (BENCHMARKS.md). bf16CopiesCheck
// compares the copies with a fresh conversion (tests).
#include <algorithm>
#include <cstring>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

/**
 * Where each logical element of a blocked layout lies: offset(i0, …, iD−1) = Σ_d table[d][i_d]
 * (outer strides plus the inner blocks' offsets, both per dimension). Empty when `md` is not a
 * plain blocked layout of its logical elements (another format kind, an offset, extra flags).
 */
std::vector<std::vector<int64_t>> offsetTables(const md_t &md) {
  dims_t dims = descDims(md);
  int nd = static_cast<int>(dims.size());
#if DNNL_VERSION_MAJOR >= 3
  if (md.get_format_kind() != dnnl::memory::format_kind::blocked) return {};
  dims_t strides = md.get_strides(), blks = md.get_inner_blks(), idxs = md.get_inner_idxs();
  int nblks = md.get_inner_nblks();
#else
  const dnnl_memory_desc_t &d = md.data;
  if (d.format_kind != dnnl_blocked || d.offset0 != 0 || d.extra.flags != 0) return {};
  for (int i = 0; i < nd; i++)
    if (d.padded_offsets[i] != 0) return {};
  const dnnl_blocking_desc_t &b = d.format_desc.blocking;
  dims_t strides(b.strides, b.strides + nd), blks(b.inner_blks, b.inner_blks + b.inner_nblks),
      idxs(b.inner_idxs, b.inner_idxs + b.inner_nblks);
  int nblks = b.inner_nblks;
#endif
  std::vector<int64_t> innerStride(nblks, 1);
  for (int j = nblks - 2; j >= 0; j--) innerStride[j] = innerStride[j + 1] * blks[j + 1];
  std::vector<std::vector<int64_t>> table(nd);
  for (int dim = 0; dim < nd; dim++) {
    table[dim].resize(dims[dim]);
    for (int64_t x = 0; x < dims[dim]; x++) {
      int64_t rem = x, off = 0;
      for (int j = nblks - 1; j >= 0; j--) {
        if (idxs[j] != dim) continue;
        off += (rem % blks[j]) * innerStride[j];
        rem /= blks[j];
      }
      table[dim][x] = off + rem * strides[dim];
    }
  }
  return table;
}

/** A valid bf16 copy of a parameter, rewritten after the update. */
struct Bf16Copy {
  MemPtr mem;
  md_t md, from; // its layout, and the parameter's elements viewed under its dims
  std::vector<std::vector<int64_t>> table; // offsetTables(md), empty when only a reorder can write it
  int64_t rowLength;                       // the last dimension's extent

  /** Rows long enough to be written through the tables (a linear layer's k, not a convolution's kw). */
  bool longRows() const { return !table.empty() && rowLength >= 64; }
};

/** p's cached bf16 copies valid for its current values, made from its plain row-major elements. */
std::vector<Buf::Cached *> bf16Copies(Buf &p) {
  std::vector<Buf::Cached *> out;
  for (auto &c : p.cache) {
    if (c.version != p.mem->version || !isBf16(c.md)) continue;
    dims_t dims = descDims(c.md);
    size_t n = 1;
    for (auto d : dims) n *= static_cast<size_t>(d);
    // Made from the f32 elements in row-major order (maybe viewed under other dims, e.g. grouped).
    if (n != p.size() || c.key != descKey(plainDesc(dims)) + "|" + descKey(c.md)) continue;
    out.push_back(&c);
  }
  return out;
}

/** Offset in c of the first element of row r (rows: the last dimension, in row-major order). */
int64_t rowBase(const Bf16Copy &c, int64_t r) {
  int64_t base = 0;
  for (size_t d = c.table.size() - 1; d-- > 0;) {
    int64_t extent = static_cast<int64_t>(c.table[d].size());
    base += c.table[d][r % extent];
    r /= extent;
  }
  return base;
}

/** out[j] = bf16(x[j]) (f32ToBf16: nearest even as oneDNN's reorder, NaN kept), vectorised at load. */
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void roundRow(const float *x, uint16_t *out, int64_t n) {
#pragma omp simd
  for (int64_t j = 0; j < n; j++) out[j] = f32ToBf16(x[j]);
}

/** Row r of p (already rounded into `row`) into copy c, through its offset tables. */
void scatterRow(const uint16_t *row, const Bf16Copy &c, int64_t r) {
  uint16_t *dst = bf16Data(c.mem) + rowBase(c, r);
  const int64_t *last = c.table.back().data();
  for (int64_t j = 0; j < c.rowLength; j++) dst[last[j]] = row[j];
}

/**
 * Copy c written from p row by row, each row rounded and scattered through c's tables; `first(a, b)`
 * runs on the row's elements [a, b) of p just before (the SGD update: the row is then in cache).
 */
template <class F> void writeRows(const float *pv, const Bf16Copy &c, int64_t n, F first) {
  const int64_t len = c.rowLength;
#pragma omp parallel if (n > 32768)
  {
    std::vector<uint16_t> row(static_cast<size_t>(len));
#pragma omp for
    for (int64_t r = 0; r < n / len; r++) {
      first(r * len, (r + 1) * len);
      roundRow(pv + r * len, row.data(), len);
      scatterRow(row.data(), c, r);
    }
  }
}

/** A copy after the update: through its tables where its rows are long, else by oneDNN's reorder. */
void writeCopy(const float *pv, const MemPtr &p, const Bf16Copy &c, int64_t n) {
  if (c.longRows()) writeRows(pv, c, n, [](int64_t, int64_t) {});
  else reorderNow(c.from, p, c.md, c.mem);
}

/** The SGD rule's constants (PyTorch's names; `first`: the momentum buffer starts as d). */
struct SgdRule {
  float lr, momentum, dampening, wd;
  bool nesterov, first;
};

/**
 * The rule on elements [a, b) of p (g its gradient, m its momentum buffer, null without momentum):
 * one loop per case with the branches outside it, so that each vectorises (AVX-512, AVX2 + FMA or
 * SSE2, picked at load); the loop that branched per element ran scalar, at twice the time.
 */
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void sgdRange(float *pv, const float *gv, float *mv,
                                                                                    int64_t a, int64_t b, const SgdRule &r) {
  const float lr = r.lr, wd = r.wd, mu = r.momentum, keep = 1.f - r.dampening;
  if (!mv) {
#pragma omp simd
    for (int64_t i = a; i < b; i++) pv[i] -= lr * (gv[i] + wd * pv[i]);
  } else if (r.first) {
#pragma omp simd
    for (int64_t i = a; i < b; i++) {
      float d = gv[i] + wd * pv[i];
      mv[i] = d;
      pv[i] -= lr * (r.nesterov ? d + mu * d : d); // buf = d
    }
  } else if (r.nesterov) {
#pragma omp simd
    for (int64_t i = a; i < b; i++) {
      float d = gv[i] + wd * pv[i];
      float buf = mu * mv[i] + keep * d;
      mv[i] = buf;
      pv[i] -= lr * (d + mu * buf);
    }
  } else {
#pragma omp simd
    for (int64_t i = a; i < b; i++) {
      float d = gv[i] + wd * pv[i];
      float buf = mu * mv[i] + keep * d;
      mv[i] = buf;
      pv[i] -= lr * buf;
    }
  }
}

/** The rule on all n elements, each OpenMP thread on a contiguous range (one thread below 32768). */
void sgdAll(float *pv, const float *gv, float *mv, int64_t n, const SgdRule &r) {
#pragma omp parallel if (n > 32768)
  {
    const auto [a, b] = threadShare(n, 16);
    sgdRange(pv, gv, mv, a, b, r);
  }
}

/** sgdStep(param, grad, momentum | null, {lr, momentum, dampening, weightDecay, nesterov, firstStep}). */
Napi::Value sgdStep(const Napi::CallbackInfo &info) {
  BufPtr param = unwrap(info[0], "sgd parameter");
  BufPtr grad = unwrap(info[1], "sgd gradient");
  BufPtr mom = unwrapOrNull(info[2], "sgd momentum buffer");
  Fields opts(info[3], "sgd params");
  float lr = static_cast<float>(opts.number("lr"));
  float momentum = static_cast<float>(opts.number("momentum"));
  float dampening = static_cast<float>(opts.number("dampening"));
  float wd = static_cast<float>(opts.number("weightDecay"));
  bool nesterov = opts.flag("nesterov");
  bool first = opts.flag("firstStep");
  if (grad->size() != param->size() || (mom && mom->size() != param->size())) {
    throw Napi::RangeError::New(info.Env(), "native: sgd parameter, gradient and momentum differ in size");
  }
  if (momentum != 0.f && !mom) throw Napi::Error::New(info.Env(), "native: sgd with momentum needs a momentum buffer");
  makePlainInPlace(*param);
  MemPtr g = grad->md == param->md ? grad->mem : plainF32(*grad); // row-major order, whatever its dims
  MemPtr m;
  if (mom && momentum != 0.f) {
    makePlainInPlace(*mom);
    m = mom->mem;
    touched(*mom);
  }
  // The bf16 copies written with the new values (queued readers of their old values run first).
  std::vector<Bf16Copy> copies;
  std::vector<Buf::Cached *> kept = bf16Copies(*param);
  for (Buf::Cached *c : kept) {
    auto table = offsetTables(c->md);
    int64_t rowLength = table.empty() ? 0 : static_cast<int64_t>(table.back().size());
    copies.push_back({c->mem, c->md, plainDesc(descDims(c->md)), std::move(table), rowLength});
  }
  // A copy with long rows first: the update writes it row by row.
  std::stable_partition(copies.begin(), copies.end(), [](const Bf16Copy &c) { return c.longRows(); });
  MemPtr p = param->mem;
  touched(*param);
  for (Buf::Cached *c : kept) c->version = param->mem->version;
  int64_t n = static_cast<int64_t>(param->size());
  submit([p, g, m, n, copies, rule = SgdRule{lr, momentum, dampening, wd, nesterov, first}] {
    float *pv = p->f32();
    const float *gv = g->f32();
    float *mv = m ? m->f32() : nullptr;
    size_t rest = 0;
    if (!copies.empty() && copies.front().longRows()) {
      // Each row updated, then rounded and scattered into the copy while it is still in cache (a
      // separate pass re-read the f32 weights from memory).
      writeRows(pv, copies.front(), n, [&](int64_t a, int64_t b) { sgdRange(pv, gv, mv, a, b, rule); });
      rest = 1;
    } else {
      sgdAll(pv, gv, mv, n, rule);
    }
    for (size_t k = rest; k < copies.size(); k++) writeCopy(pv, p, copies[k], n);
  });
  return info.Env().Undefined();
}

/**
 * Test hook: bf16CopiesCheck(param) → [checked, differing]: each cached bf16 copy of param valid
 * for its current values compared byte for byte with a fresh reorder of the f32 values.
 */
Napi::Value bf16CopiesCheck(const Napi::CallbackInfo &info) {
  BufPtr param = unwrap(info[0], "bf16CopiesCheck parameter");
  std::vector<Buf::Cached *> copies = bf16Copies(*param);
  flushSync();
  int checked = 0, differing = 0;
  for (Buf::Cached *c : copies) {
    md_t from = plainDesc(descDims(c->md));
    auto fresh = std::make_shared<Mem>(c->md.get_size());
    std::memset(fresh->ptr, 0, fresh->bytes);
    std::vector<std::function<void()>> task;
    MemPtr src = param->mem, cached = c->mem;
    md_t to = c->md;
    bool same = false;
    task.push_back([&] {
      reorderNow(from, src, to, fresh);
      same = std::memcmp(fresh->ptr, cached->ptr, fresh->bytes) == 0;
    });
    runTasks(task);
    checked++;
    differing += same ? 0 : 1;
  }
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), checked));
  out.Set(1u, Napi::Number::New(info.Env(), differing));
  return out;
}

} // namespace

void registerOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("sgdStep", Napi::Function::New(env, sgdStep));
  exports.Set("bf16CopiesCheck", Napi::Function::New(env, bf16CopiesCheck));
}

} // namespace ax
