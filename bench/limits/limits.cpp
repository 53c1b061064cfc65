// The machine's limits for `npm run bench` (bench/limits/limits.ts builds and runs this): the
// arithmetic peaks of f32 FMA, bf16 dot products and int8 dot products on all bench threads, each
// both as a register-only instruction loop (what the cores can issue) and as a large oneDNN matmul
// (what a tuned kernel reaches), and the memory read bandwidth (a streaming sum over >= 1 GiB).
// Prints one JSON object; a limit this CPU lacks is null.
//   limits THREADS [--quick]
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/** Best (shortest) wall time of `reps` runs of fn after one warm-up run. */
template <typename F>
double bestSeconds(int reps, F fn) {
  double best = 1e30;
  for (int r = 0; r <= reps; r++) {
    auto t0 = Clock::now();
    fn();
    double s = seconds(t0);
    if (r > 0) best = std::min(best, s);
  }
  return best;
}

volatile float gSinkF;
volatile int gSinkI;

// Instruction loops: 16 independent accumulators per thread hide the FMA latency (4-5 cycles)
// on two FMA pipes; the operands stay in registers, so only the issue rate limits them.

__attribute__((target("avx512f"))) float fmaLoop512(int64_t iters) {
  __m512 acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps(0.001f * j);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
  __m512 s = acc[0];
  for (int j = 1; j < 16; j++) s = _mm512_add_ps(s, acc[j]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0] + out[15];
}

__attribute__((target("avx2,fma"))) float fmaLoop256(int64_t iters) {
  __m256 acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm256_set1_ps(0.001f * j);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  __m256 s = acc[0];
  for (int j = 1; j < 16; j++) s = _mm256_add_ps(s, acc[j]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}

// vdpbf16ps: 16 lanes x 2 bf16 products each, 64 flops per instruction.
__attribute__((target("avx512f,avx512bf16"))) float bf16Loop512(int64_t iters) {
  __m512 acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps(0.001f * j);
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3400);
  for (int64_t i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm512_dpbf16_ps(acc[j], a, b);
  __m512 s = acc[0];
  for (int j = 1; j < 16; j++) s = _mm512_add_ps(s, acc[j]);
  float out[16];
  _mm512_storeu_ps(out, s);
  return out[0] + out[15];
}

// vpdpbusd: 16 lanes x 4 u8*s8 products each, 128 ops per instruction.
__attribute__((target("avx512f,avx512vnni"))) int int8Loop512(int64_t iters) {
  __m512i acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_epi32(j);
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
  for (int64_t i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
  __m512i s = acc[0];
  for (int j = 1; j < 16; j++) s = _mm512_add_epi32(s, acc[j]);
  int out[16];
  _mm512_storeu_si512(out, s);
  return out[0] + out[15];
}

// vpdpbusd on 256-bit registers (AVX-VNNI, CPUs without AVX-512 VNNI).
__attribute__((target("avx2,avxvnni"))) int int8Loop256(int64_t iters) {
  __m256i acc[16];
  for (int j = 0; j < 16; j++) acc[j] = _mm256_set1_epi32(j);
  const __m256i a = _mm256_set1_epi8(1), b = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < iters; i++)
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++) acc[j] = _mm256_dpbusd_avx_epi32(acc[j], a, b);
  int out[8];
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out), acc[0]);
  return out[0] + out[7];
}

/** Ops per second of `loop` run on every thread at once; `opsPerIter` counts one iteration of one thread. */
template <typename F>
double loopRate(int threads, int reps, int64_t iters, double opsPerIter, F loop) {
  double s = bestSeconds(reps, [&] {
    double sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += loop(iters);
    gSinkF = static_cast<float>(sink);  // the loops' results are used: nothing is optimised away
  });
  return threads * static_cast<double>(iters) * opsPerIter / s;
}

/** GFLOP/s (or GOP/s) of a square oneDNN matmul; `impl` receives the kernel oneDNN chose. */
double matmulRate(dnnl::engine &eng, dnnl::stream &strm, int64_t n, int reps, dnnl::memory::data_type src,
                  dnnl::memory::data_type wei, dnnl::memory::data_type dst, std::string &impl) {
  using tag = dnnl::memory::format_tag;
  dnnl::memory::desc a({n, n}, src, tag::ab), b({n, n}, wei, tag::any), c({n, n}, dst, tag::ab);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), eng);
  impl = pd.impl_info_str();
  dnnl::matmul prim(pd);
  dnnl::memory ma(a, eng), mb(pd.weights_desc(), eng), mc(c, eng);
  dnnl::memory scratch(pd.scratchpad_desc(), eng);
  // Small finite values in every type: 0x3c 0x3c... is 0.0115 in f32, 0.0115 in bf16, 60 in int8.
  std::memset(ma.get_data_handle(), 0x3c, a.get_size());
  std::memset(mb.get_data_handle(), 0x3c, pd.weights_desc().get_size());
  double s = bestSeconds(reps, [&] {
    prim.execute(strm, {{DNNL_ARG_SRC, ma}, {DNNL_ARG_WEIGHTS, mb}, {DNNL_ARG_DST, mc}, {DNNL_ARG_SCRATCHPAD, scratch}});
    strm.wait();
  });
  return 2.0 * n * n * n / s;
}

// The sums read a thread's share as four streams at once (its four quarters, interleaved): one
// sequential stream per core left bandwidth unused (42 against 49 GB/s on the Zen 5 machine), and a
// row-streaming kernel such as the batch-1 linear layer's reads several rows at once.
__attribute__((target("avx512f"))) int64_t sumWords512(const int64_t *w, size_t n) {
  const size_t q = n / 4 / 8 * 8;
  const int64_t *w1 = w + q, *w2 = w1 + q, *w3 = w2 + q;
  __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < q; i += 8) {
    s0 = _mm512_add_epi64(s0, _mm512_load_si512(w + i));
    s1 = _mm512_add_epi64(s1, _mm512_load_si512(w1 + i));
    s2 = _mm512_add_epi64(s2, _mm512_load_si512(w2 + i));
    s3 = _mm512_add_epi64(s3, _mm512_load_si512(w3 + i));
  }
  int64_t out[8];
  _mm512_storeu_si512(out, _mm512_add_epi64(_mm512_add_epi64(s0, s1), _mm512_add_epi64(s2, s3)));
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

__attribute__((target("avx2"))) int64_t sumWords256(const int64_t *w, size_t n) {
  const size_t q = n / 4 / 4 * 4;
  const int64_t *w1 = w + q, *w2 = w1 + q, *w3 = w2 + q;
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i < q; i += 4) {
    s0 = _mm256_add_epi64(s0, _mm256_load_si256(reinterpret_cast<const __m256i *>(w + i)));
    s1 = _mm256_add_epi64(s1, _mm256_load_si256(reinterpret_cast<const __m256i *>(w1 + i)));
    s2 = _mm256_add_epi64(s2, _mm256_load_si256(reinterpret_cast<const __m256i *>(w2 + i)));
    s3 = _mm256_add_epi64(s3, _mm256_load_si256(reinterpret_cast<const __m256i *>(w3 + i)));
  }
  int64_t out[4];
  _mm256_storeu_si256(reinterpret_cast<__m256i *>(out), _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
  return out[0] + out[1] + out[2] + out[3];
}

/** Bytes per second read from memory: every thread sums its contiguous share of a `bytes` buffer. */
double readRate(int threads, int reps, size_t bytes, bool avx512) {
  size_t words = bytes / 8;
  auto *w = static_cast<int64_t *>(std::aligned_alloc(4096, words * 8));
  if (!w) {
    std::fprintf(stderr, "limits: cannot allocate %zu bytes\n", bytes);
    std::exit(1);
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t i = 0; i < words; i++) w[i] = static_cast<int64_t>(i);  // first touch by the reading thread
  const size_t chunk = (words / threads) & ~size_t(31);
  double s = bestSeconds(reps, [&] {
    int64_t total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
      const int64_t *p = w + static_cast<size_t>(omp_get_thread_num()) * chunk;
      total += avx512 ? sumWords512(p, chunk) : sumWords256(p, chunk);
    }
    gSinkI = static_cast<int>(total);
  });
  std::free(w);
  return static_cast<double>(chunk) * threads * 8 / s;
}

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string str(const std::string &s) {
  std::string o = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') o += '\\';
    o += ch;
  }
  return o + "\"";
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2 || std::atoi(argv[1]) < 1) {
    std::fprintf(stderr, "usage: limits THREADS [--quick]\n");
    return 2;
  }
  const int threads = std::atoi(argv[1]);
  const bool quick = argc > 2 && std::strcmp(argv[2], "--quick") == 0;
  const int reps = quick ? 2 : 5;
  const int64_t iters = quick ? 2'000'000 : 10'000'000;  // 16 instructions each, per thread
  omp_set_num_threads(threads);
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx512bf16 = avx512 && __builtin_cpu_supports("avx512bf16");
  const bool avx512vnni = avx512 && __builtin_cpu_supports("avx512vnni");
  const bool avxvnni = __builtin_cpu_supports("avxvnni");

  const double fmaLoop = avx512 ? loopRate(threads, reps, iters, 16 * 32, fmaLoop512)
                                : loopRate(threads, reps, iters, 16 * 16, fmaLoop256);
  const double bf16Loop = avx512bf16 ? loopRate(threads, reps, iters, 16 * 64, bf16Loop512) : 0;
  const double int8Loop = avx512vnni  ? loopRate(threads, reps, iters, 16 * 128, int8Loop512)
                          : avxvnni   ? loopRate(threads, reps, iters, 16 * 64, int8Loop256)
                                      : 0;

  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  using dt = dnnl::memory::data_type;
  const int64_t n = quick ? 1024 : 2048;
  std::string f32Impl, bf16Impl, int8Impl;
  const double f32Mm = matmulRate(eng, strm, n, reps, dt::f32, dt::f32, dt::f32, f32Impl);
  double bf16Mm = 0, int8Mm = 0;
  try {
    bf16Mm = matmulRate(eng, strm, n, reps, dt::bf16, dt::bf16, dt::f32, bf16Impl);
  } catch (const dnnl::error &) {
    bf16Impl = "unsupported";
  }
  try {
    int8Mm = matmulRate(eng, strm, n, reps, dt::u8, dt::s8, dt::s32, int8Impl);
  } catch (const dnnl::error &) {
    int8Impl = "unsupported";
  }

  const size_t readBytes = (quick ? size_t(256) : size_t(1024)) << 20;
  const double read = readRate(threads, reps, readBytes, avx512);

  const auto g = [](double v) { return v > 0 ? num(v / 1e9) : std::string("null"); };
  const dnnl_version_t *v = dnnl_version();
  std::printf(
      "{\"threads\":%d,\"quick\":%s,\"onednn\":\"%d.%d.%d\",\"cpu\":{\"avx512f\":%s,\"avx512_bf16\":%s,"
      "\"avx512_vnni\":%s,\"avx_vnni\":%s},"
      "\"f32_fma_loop_gflops\":%s,\"f32_matmul_gflops\":%s,\"f32_matmul_impl\":%s,"
      "\"bf16_dot_loop_gflops\":%s,\"bf16_matmul_gflops\":%s,\"bf16_matmul_impl\":%s,"
      "\"int8_dot_loop_gops\":%s,\"int8_matmul_gops\":%s,\"int8_matmul_impl\":%s,"
      "\"matmul_n\":%lld,\"read_gbps\":%s,\"read_bytes\":%zu}\n",
      threads, quick ? "true" : "false", v->major, v->minor, v->patch, avx512 ? "true" : "false",
      avx512bf16 ? "true" : "false", avx512vnni ? "true" : "false", avxvnni ? "true" : "false", g(fmaLoop).c_str(),
      g(f32Mm).c_str(), str(f32Impl).c_str(), g(bf16Loop).c_str(), g(bf16Mm).c_str(), str(bf16Impl).c_str(),
      g(int8Loop).c_str(), g(int8Mm).c_str(), str(int8Impl).c_str(), static_cast<long long>(n), g(read).c_str(),
      readBytes);
  return 0;
}
