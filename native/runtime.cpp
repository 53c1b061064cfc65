// Runtime controls: OpenMP threads, the CPU ISA oneDNN dispatches to, deferred execution and its
// asynchronous flush on the libuv thread pool, an FMA-peak probe (a large f32 matmul) and a
// memory read-bandwidth probe.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

Napi::Value setThreadsJs(const Napi::CallbackInfo &info) {
  int64_t n = integer(info[0], 1, "threads");
  if (n > 65536) throw Napi::RangeError::New(info.Env(), "native: threads must be at most 65536");
  setThreads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value threadsJs(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), threads()); }

Napi::Value info(const Napi::CallbackInfo &ci) {
  Napi::Env env = ci.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", effectiveIsa());
  o.Set("bf16", hasNativeBf16());
  auto v = dnnl::version();
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  return o;
}

Napi::Value setDeferredJs(const Napi::CallbackInfo &info) {
  bool on = info[0].ToBoolean();
  setDeferred(on);
  // Leaving deferred mode runs what was queued; a task that throws there leaves the mode off all the same.
  if (!on) flushSync();
  return info.Env().Undefined();
}

Napi::Value queuedJs(const Napi::CallbackInfo &info) {
  // Number of tasks waiting (for tests); peeks by taking and putting back is not needed: report via flag.
  return Napi::Boolean::New(info.Env(), deferred());
}

/**
 * For tests: submits a task that throws `message` when it runs (queued in deferred mode, so a
 * flush fails partway and drops the tasks queued after it, as a failing primitive would).
 */
Napi::Value submitFailingTask(const Napi::CallbackInfo &info) {
  if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "native: the failure message must be a string");
  std::string message = info[0].As<Napi::String>().Utf8Value();
  submit([message] { throw std::runtime_error(message); });
  return info.Env().Undefined();
}

/** Runs the queued tasks on a libuv pool thread and resolves the promise when done. */
class FlushWorker : public Napi::AsyncWorker {
 public:
  FlushWorker(Napi::Env env, std::vector<std::function<void()>> tasks)
      : Napi::AsyncWorker(env), tasks_(std::move(tasks)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      runTasks(tasks_);
    } catch (const std::exception &e) {
      SetError(std::string("native: async flush failed: ") + e.what());
    }
    tasks_.clear(); // drop memory references on the worker thread is fine (plain frees)
  }
  // In a worker thread being terminated every N-API call fails and nobody awaits the promise:
  // swallow that (an exception escaping a completion callback would abort the process).
  void OnOK() override {
    try {
      deferred_.Resolve(Env().Undefined());
    } catch (const Napi::Error &) {
    }
  }
  void OnError(const Napi::Error &e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error &) {
    }
  }

 private:
  std::vector<std::function<void()>> tasks_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value flushAsync(const Napi::CallbackInfo &info) {
  auto *w = new FlushWorker(info.Env(), takeQueue());
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

/** GFLOP/s of an f32 matmul [m,k]x[k,n] (best of `reps`): the practical FMA peak here. */
Napi::Value matmulGflops(const Napi::CallbackInfo &info) {
  int64_t m = integer(info[0], 1, "m"), k = integer(info[1], 1, "k"), n = integer(info[2], 1, "n");
  int reps = static_cast<int>(std::min<int64_t>(integer(info[3], 1, "reps"), 1000));
  checkedMul(info.Env(), m, k, "matmul a");
  checkedMul(info.Env(), k, n, "matmul b");
  checkedMul(info.Env(), m, n, "matmul c");
  md_t a = plainDesc({m, k}), b = anyDesc({k, n}, dt::f32), c = plainDesc({m, n});
  auto pd = matmulPd(a, b, c, makeAttr());
  dnnl::matmul prim(pd);
  auto ma = std::make_shared<Mem>(a.get_size()), mb = std::make_shared<Mem>(pd.weights_desc().get_size()),
       mc = std::make_shared<Mem>(c.get_size());
  for (int64_t i = 0; i < m * k; i++) ma->f32()[i] = 0.001f * static_cast<float>(i % 97);
  for (size_t i = 0; i < mb->bytes / 4; i++) mb->f32()[i] = 0.002f * static_cast<float>(i % 89);
  std::vector<Arg> args = {{DNNL_ARG_SRC, a, ma}, {DNNL_ARG_WEIGHTS, pd.weights_desc(), mb}, {DNNL_ARG_DST, c, mc}};
  md_t scratch = pd.scratchpad_desc();
  double best = 1e30;
  for (int r = 0; r < reps + 1; r++) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::function<void()>> one{[&] { execPrimitive(prim, args, scratch); }};
    runTasks(one);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r > 0 && s < best) best = s; // first run warms up
  }
  return Napi::Number::New(info.Env(), 2.0 * m * n * k / best / 1e9);
}

static volatile uint64_t gSink; // keeps the reads observable

/** XOR of n words read as four streams at once (its four quarters; n a multiple of 4). */
__attribute__((target_clones("avx512f", "default"))) uint64_t xorStreams(const uint64_t *w, size_t n) {
  const size_t q = n / 4;
  const uint64_t *w1 = w + q, *w2 = w1 + q, *w3 = w2 + q;
  uint64_t a = 0, b = 0, c = 0, d = 0;
#pragma omp simd reduction(^ : a, b, c, d)
  for (size_t i = 0; i < q; i++) {
    a ^= w[i];
    b ^= w1[i];
    c ^= w2[i];
    d ^= w3[i];
  }
  return a ^ b ^ c ^ d;
}

/**
 * XOR of the first `*words` words on the OpenMP threads, each thread its contiguous share as four
 * streams (one stream per core leaves bandwidth unused); `*words` becomes the count read.
 */
uint64_t xorWords(const uint64_t *w, size_t *words) {
  uint64_t x = 0;
  size_t share = 0;
#pragma omp parallel reduction(^ : x)
  {
    const size_t t = omp_get_thread_num(), T = omp_get_num_threads();
    const size_t mine = *words / T / 4 * 4;
    if (t == 0) share = mine * T;
    x ^= xorStreams(w + t * mine, mine);
  }
  *words = share;
  return x;
}

/**
 * Read bandwidth from memory in GB/s (best of `reps`): an XOR over a buffer of `mib` MiB on the
 * OpenMP threads. At batch 1 a linear layer reads each weight once, so this bounds its latency.
 */
Napi::Value readBandwidth(const Napi::CallbackInfo &info) {
  int64_t mib = integer(info[0], 1, "MiB");
  if (mib > (int64_t(1) << 30)) throw Napi::RangeError::New(info.Env(), "native: readBandwidth buffer is too large");
  size_t words = static_cast<size_t>(mib) * (size_t(1) << 20) / 8;
  int reps = static_cast<int>(std::min<int64_t>(integer(info[1], 1, "reps"), 1000));
  Mem buf(words * 8);
  auto *w = static_cast<uint64_t *>(buf.ptr);
  for (size_t i = 0; i < words; i++) w[i] = i * 0x9e3779b97f4a7c15ull;
  double best = 1e30, bytesRead = 0;
  for (int r = 0; r < reps + 1; r++) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t x = 0;
    size_t read = words;
    std::vector<std::function<void()>> one{[&] { x = xorWords(w, &read); }};
    runTasks(one);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    gSink = x;
    if (r > 0 && s < best) best = s;
    bytesRead = read * 8;
  }
  return Napi::Number::New(info.Env(), bytesRead / best / 1e9);
}

} // namespace

void registerRuntime(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreads", Napi::Function::New(env, setThreadsJs));
  exports.Set("threads", Napi::Function::New(env, threadsJs));
  exports.Set("info", Napi::Function::New(env, info));
  exports.Set("setDeferred", Napi::Function::New(env, setDeferredJs));
  exports.Set("isDeferred", Napi::Function::New(env, queuedJs));
  exports.Set("flushAsync", Napi::Function::New(env, flushAsync));
  exports.Set("submitFailingTask", Napi::Function::New(env, submitFailingTask));
  exports.Set("matmulGflops", Napi::Function::New(env, matmulGflops));
  exports.Set("readBandwidth", Napi::Function::New(env, readBandwidth));
}

} // namespace ax
