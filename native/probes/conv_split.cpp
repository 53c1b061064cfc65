// Probe (not part of the addon): at batch 1, does splitting each of torchvision AlexNet's five
// convolutions into one single-threaded oneDNN primitive per thread beat oneDNN's own threading?
// Four variants of each layer (NHWC, forward_inference, brgconv as the addon builds it), taking
// turns run by run so that a shared machine loads them alike; min and median ms of each:
//   full2   one primitive on 2 OpenMP threads (what the addon does)
//   full1   one primitive on 1 thread
//   rows    two primitives over output rows (each its input rows with halo, its own padding),
//           run in an OpenMP parallel region (oneDNN runs single-threaded inside one)
//   ocsplit two primitives over halves of the output channels, each into its own dense NHWC
//           buffer, interleaved into the NHWC output (a strided dst falls to oneDNN's ref:any)
// Results go to BENCHMARKS.md ("f32 batch 1, layer by layer").
//   g++ -O2 -fopenmp -o /tmp/conv_split native/probes/conv_split.cpp -ldnnl && OMP_WAIT_POLICY=passive /tmp/conv_split 300
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <functional>
#include <algorithm>
#include <cstring>
#include <cmath>
using namespace dnnl;
using md = memory::desc;
using dt = memory::data_type;
using tag = memory::format_tag;
engine eng(engine::kind::cpu, 0);

struct Conv { int ic, oc, ih, k, s, p; int oh() const { return (ih + 2 * p - k) / s + 1; } };

struct Prim { convolution_forward prim; convolution_forward::primitive_desc pd; void *w; void *scratch; };

Prim make(int ic, int oc, int ih, int iw, int k, int s, int pt, int pb, int pl, int pr, const float *wplain) {
  int oh = (ih + pt + pb - k) / s + 1, ow = (iw + pl + pr - k) / s + 1;
  md src({1, ic, ih, iw}, dt::f32, tag::nhwc);
  md wa({oc, ic, k, k}, dt::f32, tag::any);
  md b({oc}, dt::f32, tag::a);
  md dst({1, oc, oh, ow}, dt::f32, tag::nhwc);
  primitive_attr attr; attr.set_scratchpad_mode(scratchpad_mode::user);
  convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, src, wa, b, dst, {s, s}, {pt, pl}, {pb, pr});
  convolution_forward::primitive_desc pd(d, attr, eng);
  Prim P{convolution_forward(pd), pd, nullptr, nullptr};
  P.w = aligned_alloc(64, (pd.weights_desc().get_size() + 63) / 64 * 64);
  P.scratch = aligned_alloc(64, std::max<size_t>(64, (pd.scratchpad_desc().get_size() + 63) / 64 * 64));
  stream st(eng);
  memory wp({{oc, ic, k, k}, dt::f32, tag::oihw}, eng, (void *)wplain);
  memory wb(pd.weights_desc(), eng, P.w);
  reorder(wp, wb).execute(st, wp, wb); st.wait();
  return P;
}
void run(Prim &P, stream &st, void *src, const float *bias, void *dst) {
  memory s(P.pd.src_desc(), eng, src), w(P.pd.weights_desc(), eng, P.w), b(P.pd.bias_desc(), eng, (void *)bias), d(P.pd.dst_desc(), eng, dst), sc(P.pd.scratchpad_desc(), eng, P.scratch);
  P.prim.execute(st, {{DNNL_ARG_SRC, s}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, d}, {DNNL_ARG_SCRATCHPAD, sc}});
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 50;
  std::vector<Conv> convs = {{3, 64, 224, 11, 4, 2}, {64, 192, 27, 5, 1, 2}, {192, 384, 13, 3, 1, 1}, {384, 256, 13, 3, 1, 1}, {256, 256, 13, 3, 1, 1}};
  double tot[4] = {0};
  for (auto &c : convs) {
    int oh = c.oh();
    std::vector<float> x(c.ic * c.ih * c.ih), w((size_t)c.oc * c.ic * c.k * c.k), b(c.oc);
    for (size_t i = 0; i < x.size(); i++) x[i] = std::sin(i * 0.01f);
    for (size_t i = 0; i < w.size(); i++) w[i] = std::cos(i * 0.013f) * 0.05f;
    for (size_t i = 0; i < b.size(); i++) b[i] = 0.01f * i;
    std::vector<float> ref(c.oc * oh * oh), out(c.oc * oh * oh);
    stream st(eng);
    omp_set_num_threads(2);
    Prim full2 = make(c.ic, c.oc, c.ih, c.ih, c.k, c.s, c.p, c.p, c.p, c.p, w.data());
    omp_set_num_threads(1);
    Prim full1 = make(c.ic, c.oc, c.ih, c.ih, c.k, c.s, c.p, c.p, c.p, c.p, w.data());
    // row split
    int r0s[2] = {0, (oh + 1) / 2}, r1s[2] = {(oh + 1) / 2, oh};
    std::vector<Prim> rows; std::vector<size_t> srcOff, dstOff;
    for (int t = 0; t < 2; t++) {
      int start = r0s[t] * c.s - c.p, end = (r1s[t] - 1) * c.s - c.p + c.k;
      int lo = std::max(start, 0), hi = std::min(end, c.ih);
      rows.push_back(make(c.ic, c.oc, hi - lo, c.ih, c.k, c.s, lo - start, end - hi, c.p, c.p, w.data()));
      srcOff.push_back((size_t)lo * c.ih * c.ic); dstOff.push_back((size_t)r0s[t] * oh * c.oc);
    }
    // oc split, dense dst per half, then interleave copy
    std::vector<Prim> ocd; std::vector<std::vector<float>> half(2, std::vector<float>((c.oc / 2) * oh * oh));
    for (int t = 0; t < 2; t++) { int h = c.oc / 2; ocd.push_back(make(c.ic, h, c.ih, c.ih, c.k, c.s, c.p, c.p, c.p, c.p, w.data() + (size_t)t * h * c.ic * c.k * c.k)); }
    std::vector<stream> sts = {stream(eng), stream(eng)};
    omp_set_num_threads(2);
    std::vector<std::function<void()>> vars = {
      [&] { run(full2, st, x.data(), b.data(), ref.data()); },
      [&] { omp_set_num_threads(1); run(full1, st, x.data(), b.data(), ref.data()); omp_set_num_threads(2); },
      [&] {
#pragma omp parallel num_threads(2)
      { int t = omp_get_thread_num(); run(rows[t], sts[t], x.data() + srcOff[t], b.data(), out.data() + dstOff[t]); }
      },
      [&] {
#pragma omp parallel num_threads(2)
      { int t = omp_get_thread_num(); run(ocd[t], sts[t], x.data(), b.data() + t * (c.oc / 2), half[t].data());
#pragma omp barrier
        int h = c.oc / 2; int px = oh * oh; int p0 = t * px / 2, p1 = (t + 1) * px / 2;
        for (int p = p0; p < p1; p++) { std::memcpy(out.data() + (size_t)p * c.oc, half[0].data() + (size_t)p * h, h * 4); std::memcpy(out.data() + (size_t)p * c.oc + h, half[1].data() + (size_t)p * h, h * 4); }
      }
      }};
    std::vector<std::vector<double>> ts(vars.size());
    for (int r = 0; r < reps + 3; r++) for (size_t v = 0; v < vars.size(); v++) {
      auto t0 = std::chrono::steady_clock::now(); vars[v]();
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 3) ts[v].push_back(ms);
    }
    // The last run of each split variant left its output in `out`: check it against full2's `ref`.
    double maxdiff = 0;
    for (size_t i = 0; i < ref.size(); i++) maxdiff = std::max(maxdiff, (double)std::fabs(ref[i] - out[i]));
    printf("ic%d oc%d ih%d k%d (ocsplit max|diff| %.1e) min/median ms:", c.ic, c.oc, c.ih, c.k, maxdiff);
    const char *nm[] = {"full2", "full1", "rows", "ocsplit"};
    for (size_t v = 0; v < vars.size(); v++) { std::sort(ts[v].begin(), ts[v].end()); printf("  %s %.3f/%.3f", nm[v], ts[v][0], ts[v][ts[v].size()/2]); tot[v] += ts[v][0]; }
    printf("\n");
  }
  printf("sum of mins: full2 %.3f full1 %.3f rows %.3f ocsplit %.3f\n", tot[0], tot[1], tot[2], tot[3]);
}
