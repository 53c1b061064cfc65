// Core of the addon: native buffers and their JS handles, the execution queue (immediate or
// deferred for async inference), the user scratchpad, layout conversion with per-buffer caching,
// and the primitive cache. Op files (conv.cpp, pool.cpp, ...) build on these.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnnl_compat.hpp"

namespace ax {

// ---- memory ----------------------------------------------------------------------------------------

/** One native allocation (64-byte aligned). `version` grows on every in-place write. */
struct Mem {
  void *ptr = nullptr;
  size_t bytes = 0;
  uint64_t version = 0;
  explicit Mem(size_t bytes);
  ~Mem();
  Mem(const Mem &) = delete;
  Mem &operator=(const Mem &) = delete;
  float *f32() const { return static_cast<float *>(ptr); }
};
using MemPtr = std::shared_ptr<Mem>;

/** Number of native allocations alive now (the leak check reads this). */
int64_t liveAllocations();
/** Returns the blocks kept for reuse to the system. */
void trimPool();

/** Set by a cached copy's writing task once it ran (see Buf::Cached). */
using Written = std::shared_ptr<std::atomic<bool>>;

/** A tensor's storage: an allocation and the (maybe blocked) oneDNN layout of its elements. */
struct Buf {
  MemPtr mem;
  md_t md;
  /**
   * Reorders of this buffer into other layouts/types (weights, inputs), valid for one mem version.
   * The task writing a copy may still be queued (deferred mode): `written` is set once it ran. A
   * copy not yet written is trusted only while its task still waits in the deferred queue (a
   * reader queued after it runs after it); once the queue is taken to run, only `written` counts,
   * since a run that fails partway drops the tasks after the one that threw.
   */
  struct Cached {
    std::string key;
    md_t md;
    MemPtr mem;
    uint64_t version;
    Written written;
    uint64_t queueTakesWhenStored;
  };
  std::vector<Cached> cache;
  Buf(MemPtr m, md_t d) : mem(std::move(m)), md(std::move(d)) {}
  /** Logical elements. */
  size_t size() const;
  bool isPlainF32() const;
  /** True when the physical buffer holds exactly the logical elements (no blocking padding). */
  bool dense() const { return md.get_size() == size() * (descType(md) == dt::f32 ? 4 : 2); }
};
using BufPtr = std::shared_ptr<Buf>;

/** Physical f32 elements of a layout (blocked layouts' padding included). */
inline int64_t physicalCount(const md_t &md) { return static_cast<int64_t>(md.get_size() / sizeof(float)); }

/** Allocates a buffer for `md`. */
BufPtr newBuf(const md_t &md);
/** A new buffer with b's layout, its bytes copied by a queued task. */
BufPtr copyOf(const Buf &b);

// ---- handles --------------------------------------------------------------------------------------

/** JS handle: an External owning a slot; free() empties the slot, the finalizer deletes it. */
struct Slot {
  BufPtr buf;
};

Napi::Value wrap(Napi::Env env, BufPtr buf);
/** The buffer behind handle `v` (throws a JS error naming `what` if freed or not a handle). */
BufPtr unwrap(const Napi::Value &v, const char *what);
BufPtr unwrapOrNull(const Napi::Value &v, const char *what);

// ---- execution --------------------------------------------------------------------------------------

/**
 * Runs native work. In immediate mode a task runs now (under the execution lock); in deferred
 * mode it is queued and runs when the queue is flushed, synchronously or on the libuv pool.
 */
void submit(std::function<void()> task);
/** Runs every queued task now, on this thread. */
void flushSync();
bool deferred();
void setDeferred(bool on);
/** Takes the queued tasks (for an async worker). */
std::vector<std::function<void()>> takeQueue();
/** Runs tasks under the execution lock with this thread's OpenMP thread count set (one that throws ends the run). */
void runTasks(std::vector<std::function<void()>> &tasks);
/** How many times the deferred queue has been taken to run (see Buf::Cached). */
uint64_t queueTakes();
void setThreads(int n);
int threads();
/**
 * Inside a parallel region: the calling OpenMP thread's contiguous share [first, second) of n items,
 * its boundaries on multiples of `align` (one sequential stream per thread; whole vector blocks).
 */
std::pair<int64_t, int64_t> threadShare(int64_t n, int64_t align);

/** Executes a primitive now (inside a task) with the shared user scratchpad. */
struct Arg {
  int id;
  md_t md;
  MemPtr mem;
};
void execPrimitive(const dnnl::primitive &p, const std::vector<Arg> &args, const md_t &scratchpad);

/**
 * Queues a cached primitive (anything with `.prim` and `.pd`) with its arguments and scratchpad;
 * `after` runs in the same task right after it (a fix-up on its output).
 */
template <class Cached, class After = void (*)()>
void submitPrimitive(const Cached &c, std::vector<Arg> args, After after = [] {}) {
  dnnl::primitive prim = c.prim;
  md_t scratch = c.pd.scratchpad_desc();
  submit([prim, args = std::move(args), scratch, after] {
    execPrimitive(prim, args, scratch);
    after();
  });
}

/**
 * Inside a task: plain f32 copies of (xMd, x) and (yMd, y) (the memory itself where already
 * plain), `fn(plainX, plainY)` on them, and the plain y written back into y's layout. For rare
 * fix-ups that are simple only on plain NCHW data.
 */
void onPlainCopies(const md_t &xMd, const MemPtr &x, const md_t &yMd, const MemPtr &y,
                   const std::function<void(const float *, float *)> &fn);

// ---- layout conversion ------------------------------------------------------------------------------

/**
 * `b`'s elements in layout `to`. `view` (optional) reinterprets b's plain memory under another
 * shape first (e.g. grouped weights as 5-D). With `cache` the result is kept on b until b's memory
 * is written, so the same data is never reordered twice.
 */
MemPtr inLayout(Buf &b, const md_t &to, bool cache, const md_t *view = nullptr);
/** b's copy under `key` when it is valid for b's memory as it is now, else null. */
MemPtr findCached(const Buf &b, const std::string &key);
/**
 * Keeps `mem` (layout `md`) as b's copy under `key` for b's memory as it is now (one entry per
 * key). The task that writes `mem` must set the returned flag when it has run.
 */
Written storeCached(Buf &b, const std::string &key, const md_t &md, MemPtr mem);
/** Enqueues a reorder from (fromMd, from) to (toMd, to); the task sets `written` (if any) once done. */
void reorderInto(const md_t &fromMd, MemPtr from, const md_t &toMd, MemPtr to, Written written = nullptr);
/** Runs a reorder now, on this thread: for use inside a task (which already holds the lock). */
void reorderNow(const md_t &fromMd, MemPtr from, const md_t &toMd, MemPtr to);
/** Replaces b's memory with a plain f32 copy when it is not plain f32 already (reorders once). */
void makePlainInPlace(Buf &b);
/** Marks b's memory as written (invalidates caches of every buffer sharing it). */
inline void touched(Buf &b) { b.mem->version++; }

// ---- primitive cache ----------------------------------------------------------------------------

/** Cached primitive and its descriptor, keyed by shape + attributes. */
template <class Pd, class Prim>
struct Cached {
  Pd pd;
  Prim prim;
};

template <class Pd, class Prim>
Cached<Pd, Prim> &cached(std::unordered_map<std::string, Cached<Pd, Prim>> &map, const std::string &key,
                         const std::function<Pd()> &make) {
  auto it = map.find(key);
  if (it != map.end()) return it->second;
  Pd pd = make();
  Prim prim(pd);
  return map.emplace(key, Cached<Pd, Prim>{pd, prim}).first->second;
}

// ---- argument helpers -------------------------------------------------------------------------------

/** A dims array (integers ≥ 1, their product checked; [] is one element). */
dims_t toDims(const Napi::Value &v, const char *what);
std::string joinInts(const std::vector<int64_t> &v);

} // namespace ax
