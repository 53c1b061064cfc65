// Implementation of core.hpp: allocations, handles, the execution queue and layout conversion.
#include "core.hpp"

#include "geometry.hpp"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace ax {

dnnl::engine &cpuEngine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream &cpuStream() {
  static dnnl::stream s(cpuEngine());
  return s;
}

// ---- memory ----------------------------------------------------------------------------------------

static std::atomic<int64_t> gLive{0};

// Large blocks are kept for reuse (exact size): training allocates the same activation and
// gradient sizes every step, and fresh multi-MB blocks cost page faults (mmap/munmap) each time.
// The pool is bounded, so memory stays flat; liveAllocations() counts only blocks in use.
static std::mutex gPoolLock;
static std::unordered_multimap<size_t, void *> gPool;
static size_t gPoolBytes = 0;
constexpr size_t kPoolMinBytes = size_t(1) << 20;
constexpr size_t kPoolMaxBytes = size_t(1) << 30;

static size_t roundedSize(size_t n) { return n == 0 ? 64 : ((n + 63) / 64) * 64; }

Mem::Mem(size_t n) : bytes(n) {
  size_t rounded = roundedSize(n);
  if (rounded >= kPoolMinBytes) {
    std::lock_guard<std::mutex> lock(gPoolLock);
    auto it = gPool.find(rounded);
    if (it != gPool.end()) {
      ptr = it->second;
      gPool.erase(it);
      gPoolBytes -= rounded;
    }
  }
  if (!ptr) ptr = std::aligned_alloc(64, rounded);
  if (!ptr) throw std::runtime_error("native: out of memory allocating " + std::to_string(n) + " bytes");
  gLive++;
}

Mem::~Mem() {
  gLive--;
  size_t rounded = roundedSize(bytes);
  if (rounded >= kPoolMinBytes) {
    std::lock_guard<std::mutex> lock(gPoolLock);
    if (gPoolBytes + rounded <= kPoolMaxBytes) {
      gPool.emplace(rounded, ptr);
      gPoolBytes += rounded;
      return;
    }
  }
  std::free(ptr);
}

void trimPool() {
  std::lock_guard<std::mutex> lock(gPoolLock);
  for (auto &e : gPool) std::free(e.second);
  gPool.clear();
  gPoolBytes = 0;
}

int64_t liveAllocations() { return gLive.load(); }

size_t Buf::size() const {
  size_t n = 1;
  for (auto d : descDims(md)) n *= static_cast<size_t>(d);
  return n;
}

bool Buf::isPlainF32() const { return md == plainDesc(descDims(md), dt::f32); }

BufPtr newBuf(const md_t &md) { return std::make_shared<Buf>(std::make_shared<Mem>(md.get_size()), md); }

BufPtr copyOf(const Buf &b) {
  BufPtr c = newBuf(b.md);
  MemPtr from = b.mem, to = c->mem;
  submit([from, to] { std::memcpy(to->ptr, from->ptr, to->bytes); });
  return c;
}

// ---- handles --------------------------------------------------------------------------------------

Napi::Value wrap(Napi::Env env, BufPtr buf) {
  auto *slot = new Slot{std::move(buf)};
  return Napi::External<Slot>::New(env, slot, [](Napi::Env, Slot *s) { delete s; });
}

BufPtr unwrapOrNull(const Napi::Value &v, const char *what) {
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  return unwrap(v, what);
}

BufPtr unwrap(const Napi::Value &v, const char *what) {
  if (!v.IsExternal()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " is not a native handle");
  Slot *s = v.As<Napi::External<Slot>>().Data();
  if (!s || !s->buf) throw Napi::Error::New(v.Env(), std::string("native: ") + what + " was used after dispose()");
  return s->buf;
}

// ---- execution --------------------------------------------------------------------------------------

static std::mutex gExecLock;
static bool gDeferred = false;
static std::vector<std::function<void()>> gQueue;
static std::atomic<int> gThreads{0};

void setThreads(int n) {
  gThreads = n;
  omp_set_num_threads(n);
}

int threads() { return gThreads.load() > 0 ? gThreads.load() : omp_get_max_threads(); }

std::pair<int64_t, int64_t> threadShare(int64_t n, int64_t align) {
  const int64_t t = omp_get_thread_num(), T = omp_get_num_threads(), units = (n + align - 1) / align;
  return {std::min(n, units * t / T * align), std::min(n, units * (t + 1) / T * align)};
}

bool deferred() { return gDeferred; }
void setDeferred(bool on) { gDeferred = on; }

void runTasks(std::vector<std::function<void()>> &tasks) {
  std::lock_guard<std::mutex> lock(gExecLock);
  // The OpenMP thread count is per calling thread: set it on whichever thread runs the work.
  if (gThreads.load() > 0 && omp_get_max_threads() != gThreads.load()) omp_set_num_threads(gThreads.load());
  for (auto &t : tasks) t();
  tasks.clear();
}

void submit(std::function<void()> task) {
  if (gDeferred) {
    gQueue.push_back(std::move(task));
    return;
  }
  std::vector<std::function<void()>> one;
  one.push_back(std::move(task));
  runTasks(one);
}

static std::atomic<uint64_t> gQueueTakes{0};

uint64_t queueTakes() { return gQueueTakes.load(); }

std::vector<std::function<void()>> takeQueue() {
  std::vector<std::function<void()>> q;
  q.swap(gQueue);
  gQueueTakes++; // copies stored until now are trusted only once their tasks have run
  return q;
}

void flushSync() {
  if (gQueue.empty()) return;
  auto q = takeQueue();
  runTasks(q);
}

// The scratchpad is shared: tasks run one at a time under gExecLock.
static MemPtr gScratch;

void execPrimitive(const dnnl::primitive &p, const std::vector<Arg> &args, const md_t &scratchpad) {
  std::unordered_map<int, dnnl::memory> map;
  for (const auto &a : args) map.emplace(a.id, dnnl::memory(a.md, cpuEngine(), a.mem->ptr));
  size_t need = scratchpad.get_size();
  if (need > 0) {
    if (!gScratch || gScratch->bytes < need) {
      gScratch.reset();
      gScratch = std::make_shared<Mem>(need);
    }
    map.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad, cpuEngine(), gScratch->ptr));
  }
  p.execute(cpuStream(), map);
  cpuStream().wait();
}

// ---- layout conversion ------------------------------------------------------------------------------

struct ReorderPrim {
  dnnl::reorder prim;
  md_t scratch;
};
static std::unordered_map<std::string, ReorderPrim> gReorders;
static std::mutex gReorderLock;

/** The cached reorder primitive (and its scratchpad) from one layout to another. */
static ReorderPrim reorderPrim(const md_t &fromMd, const md_t &toMd) {
  std::lock_guard<std::mutex> lock(gReorderLock);
  std::string key = descKey(fromMd) + "|" + descKey(toMd);
  auto it = gReorders.find(key);
  if (it == gReorders.end()) {
    auto pd = reorderPd(fromMd, toMd, makeAttr());
    it = gReorders.emplace(key, ReorderPrim{dnnl::reorder(pd), pd.scratchpad_desc()}).first;
  }
  return it->second;
}

void reorderInto(const md_t &fromMd, MemPtr from, const md_t &toMd, MemPtr to, Written written) {
  ReorderPrim r = reorderPrim(fromMd, toMd);
  submit([r, fromMd, from, toMd, to, written]() {
    execPrimitive(r.prim, {{DNNL_ARG_FROM, fromMd, from}, {DNNL_ARG_TO, toMd, to}}, r.scratch);
    if (written) written->store(true);
  });
}

void reorderNow(const md_t &fromMd, MemPtr from, const md_t &toMd, MemPtr to) {
  ReorderPrim r = reorderPrim(fromMd, toMd);
  execPrimitive(r.prim, {{DNNL_ARG_FROM, fromMd, from}, {DNNL_ARG_TO, toMd, to}}, r.scratch);
}

void onPlainCopies(const md_t &xMd, const MemPtr &x, const md_t &yMd, const MemPtr &y,
                   const std::function<void(const float *, float *)> &fn) {
  md_t xPlain = plainDesc(descDims(xMd)), yPlain = plainDesc(descDims(yMd));
  MemPtr xp = x, yp = y;
  if (!(xMd == xPlain)) {
    xp = std::make_shared<Mem>(xPlain.get_size());
    reorderNow(xMd, x, xPlain, xp);
  }
  if (!(yMd == yPlain)) {
    yp = std::make_shared<Mem>(yPlain.get_size());
    reorderNow(yMd, y, yPlain, yp);
  }
  fn(xp->f32(), yp->f32());
  if (yp != y) reorderNow(yPlain, yp, yMd, y);
}

MemPtr findCached(const Buf &b, const std::string &key) {
  for (const auto &c : b.cache) {
    if (c.key != key || c.version != b.mem->version) continue;
    // Written, or its task still waits in the deferred queue, where it runs before any reader queued now.
    if (c.written->load() || (deferred() && c.queueTakesWhenStored == queueTakes())) return c.mem;
  }
  return nullptr;
}

Written storeCached(Buf &b, const std::string &key, const md_t &md, MemPtr mem) {
  Written written = std::make_shared<std::atomic<bool>>(false);
  Buf::Cached entry{key, md, std::move(mem), b.mem->version, written, queueTakes()};
  for (auto &c : b.cache) {
    if (c.key == key) { // replace the stale entry for this key
      c = std::move(entry);
      return written;
    }
  }
  b.cache.push_back(std::move(entry));
  return written;
}

MemPtr inLayout(Buf &b, const md_t &to, bool cache, const md_t *view) {
  const md_t &from = view ? *view : b.md;
  if (from == to) return b.mem;
  std::string key = descKey(from) + "|" + descKey(to);
  if (cache) {
    if (MemPtr hit = findCached(b, key)) return hit;
  }
  auto out = std::make_shared<Mem>(to.get_size());
  reorderInto(from, b.mem, to, out, cache ? storeCached(b, key, to, out) : nullptr);
  return out;
}

void makePlainInPlace(Buf &b) {
  if (b.isPlainF32()) return;
  md_t plain = plainDesc(descDims(b.md), dt::f32);
  MemPtr m = inLayout(b, plain, false);
  b.mem = m;
  b.md = plain;
  b.cache.clear();
}

// ---- argument helpers -------------------------------------------------------------------------------

dims_t toDims(const Napi::Value &v, const char *what) {
  if (!v.IsArray()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be an array of dims");
  auto a = v.As<Napi::Array>();
  dims_t d(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) d[i] = integer(a.Get(i), 1, std::string(what) + "[" + std::to_string(i) + "]");
  if (d.empty()) d.push_back(1); // a scalar is stored as one element
  checkedCount(v.Env(), d, what);
  return d;
}

std::string joinInts(const std::vector<int64_t> &v) {
  std::string s;
  for (auto x : v) s += std::to_string(x) + ",";
  return s;
}

} // namespace ax
