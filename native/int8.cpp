// Int8 inference: a whole quantized network run as one chain of oneDNN primitives, int8 kept
// between layers. The network is described once from JavaScript (src/quant/int8_spec.ts): the
// input's f32 NCHW is quantized to s8 NHWC (symmetric, one scale), each convolution and inner
// product runs on s8/u8 activations and s8 weights with per-output-channel scales (oneDNN 2.6's
// output scales: dst = scale[oc] · (acc + bias), bias pre-divided by the input and weight scales
// by the caller), ReLU fused as a post-op (exact here: integer inputs hold no NaN), output
// requantized to u8/s8 for the next layer or left f32 (the logits). Max pooling runs on u8 (exact).
// alexnet-2012's LRN is an f32 island: the convolution before it writes f32 NHWC, oneDNN's f32 LRN
// runs on it, and a reorder quantizes the result. A resizing adaptive average pool (PyTorch's
// uneven windows, which no oneDNN primitive has) is a loop on the integers: the exact sum, its
// mean rounded half to even, the scale unchanged.
// Activations stay NHWC, so a flattened conv output is NHWC-ordered: the caller permutes FC1's
// weight columns to match. Plans (primitives and buffers) are built per batch size; weights are
// reordered once per layout and shared by every plan.
//
// int8NetCreate(spec) → handle; int8NetRun(handle, input f32 NCHW, n) → Float32Array (the last
// layer's output; a quantized one as its integer values, NCHW); int8NetRunAsync: the same on the
// libuv pool, a Promise.
#include <omp.h>

#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_set>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

enum class Kind { Conv, Linear, MaxPool, Lrn, AvgPool };
enum class Out { U8, S8, F32 };

dt dtOf(Out o) { return o == Out::U8 ? dt::u8 : o == Out::S8 ? dt::s8 : dt::f32; }

struct Layer {
  Kind kind;
  // Conv: oc, kh, kw, strides, padding, groups. Linear: oc = output features. Pool: kernel, strides.
  int64_t oc = 0, kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, groups = 1;
  std::vector<int8_t> weight;
  std::vector<float> scales, bias;
  bool relu = false;
  Out out = Out::U8;
  // LRN: window, PyTorch's alpha (oneDNN divides it by the window too), beta, k; its output's scale.
  int64_t lrnSize = 0;
  float alpha = 0, beta = 0, k = 0, outputScale = 1;
  // Input and output shapes per image (c, h, w; a linear layer's are [k, 1, 1] and [oc, 1, 1]).
  int64_t c = 0, h = 0, w = 0, oh = 0, ow = 0;
  dt in = dt::s8;
  /** Weights reordered into a primitive's layout, by that layout's key (shared by every plan). */
  std::map<std::string, dnnl::memory> packed;
};

struct Step {
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  /** Set for a step that is not a oneDNN primitive (the adaptive average pool). */
  std::function<void()> loop = nullptr;
};

struct Plan {
  dnnl::memory input; // f32 NCHW, the caller's data handle set per run
  std::vector<Step> steps;
  dnnl::memory output, outputPlain; // the last dst, and its f32 NCHW copy when it is quantized
};

struct Net {
  int64_t c, h, w;
  float inputScale;
  std::vector<Layer> layers;
  std::map<int64_t, Plan> plans;
  std::mutex mu; // one run at a time per network (plans hold the intermediate buffers)
  dnnl::stream stream{cpuEngine()}; // its own: runs may come from a pool thread while the backend computes
  int64_t outCount() const { return channelsOut(layers.back()) * layers.back().oh * layers.back().ow; }
  static int64_t channelsOut(const Layer &l) { return l.kind == Kind::Conv || l.kind == Kind::Linear ? l.oc : l.c; }
};

using NetPtr = std::shared_ptr<Net>;

md_t nhwc(int64_t n, int64_t c, int64_t h, int64_t w, dt type) { return md_t({n, c, h, w}, type, tag::nhwc); }

/** The weights of `l` in layout `to` (plain s8 reordered once; oneDNN adds its s8-input compensation). */
dnnl::memory packedWeights(dnnl::stream &stream, Layer &l, const md_t &to, const md_t &plain) {
  std::string key = descKey(to);
  auto it = l.packed.find(key);
  if (it != l.packed.end()) return it->second;
  dnnl::memory src(plain, cpuEngine(), l.weight.data());
  dnnl::memory dst(to, cpuEngine());
  dnnl::reorder(src, dst).execute(stream, src, dst);
  stream.wait();
  return l.packed.emplace(key, dst).first->second;
}

/** round(sum / count) half to even, exactly (count ≥ 1): the reference's roundedMean. */
int64_t roundedMean(int64_t sum, int64_t count) {
  int64_t q = sum / count;
  if (sum % count != 0 && sum < 0) q--; // floor
  int64_t twice = 2 * (sum - q * count);
  return twice > count || (twice == count && q % 2 != 0) ? q + 1 : q;
}

/** Adaptive average pooling on NHWC integers with PyTorch's windows [⌊i·H/OH⌋, ⌈(i+1)·H/OH⌉). */
template <class T> void adaptiveAvgPool(const T *x, T *y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t oh, int64_t ow) {
#pragma omp parallel
  {
    std::vector<int64_t> sum(static_cast<size_t>(c));
#pragma omp for
    for (int64_t p = 0; p < n * oh * ow; p++) {
      int64_t b = p / (oh * ow), oy = p / ow % oh, ox = p % ow;
      int64_t y0 = oy * h / oh, y1 = ((oy + 1) * h + oh - 1) / oh;
      int64_t x0 = ox * w / ow, x1 = ((ox + 1) * w + ow - 1) / ow;
      std::fill(sum.begin(), sum.end(), 0);
      for (int64_t iy = y0; iy < y1; iy++)
        for (int64_t ix = x0; ix < x1; ix++) {
          const T *px = x + ((b * h + iy) * w + ix) * c;
          for (int64_t ch = 0; ch < c; ch++) sum[static_cast<size_t>(ch)] += px[ch];
        }
      int64_t count = (y1 - y0) * (x1 - x0);
      for (int64_t ch = 0; ch < c; ch++) y[p * c + ch] = static_cast<T>(roundedMean(sum[static_cast<size_t>(ch)], count));
    }
  }
}

dnnl::primitive_attr weightAttr(const Layer &l) {
  dnnl::primitive_attr attr;
  attr.set_output_scales(1 << 1, l.scales); // per output channel (dim 1 of dst)
  if (l.relu) {
    dnnl::post_ops po;
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(po);
  }
  return attr;
}

Plan buildPlan(Net &net, int64_t n) {
  Plan p;
  p.input = dnnl::memory(md_t({n, net.c, net.h, net.w}, dt::f32, tag::nchw), cpuEngine(), DNNL_MEMORY_NONE);
  // Quantize the input: s8 = saturate(round(x / scale)), NHWC.
  dnnl::memory cur(nhwc(n, net.c, net.h, net.w, dt::s8), cpuEngine());
  {
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {1.f / net.inputScale});
    auto pd = reorderPd(p.input.get_desc(), cur.get_desc(), attr);
    p.steps.push_back({dnnl::reorder(pd), {{DNNL_ARG_FROM, p.input}, {DNNL_ARG_TO, cur}}});
  }
  for (Layer &l : net.layers) {
    dnnl::memory next;
    bool last = &l == &net.layers.back();
    if (l.kind == Kind::Lrn) {
      // f32 NHWC in (the convolution's real values), f32 LRN, then quantized with 1 / output scale.
      LrnShape s{cur.get_desc(), l.lrnSize, l.alpha, l.beta, l.k};
      auto pd = lrnFwdPd(s, false, dnnl::primitive_attr());
      dnnl::memory normalised(pd.dst_desc(), cpuEngine());
      p.steps.push_back({dnnl::lrn_forward(pd), {{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, normalised}}});
      next = dnnl::memory(nhwc(n, l.c, l.oh, l.ow, dtOf(l.out)), cpuEngine());
      dnnl::primitive_attr attr;
      attr.set_output_scales(0, {1.f / l.outputScale});
      auto rpd = reorderPd(normalised.get_desc(), next.get_desc(), attr);
      p.steps.push_back({dnnl::reorder(rpd), {{DNNL_ARG_FROM, normalised}, {DNNL_ARG_TO, next}}});
    } else if (l.kind == Kind::AvgPool) {
      next = dnnl::memory(nhwc(n, l.c, l.oh, l.ow, l.in), cpuEngine());
      dnnl::memory from = cur, to = next;
      int64_t c = l.c, h = l.h, w = l.w, oh = l.oh, ow = l.ow;
      bool u8 = l.in == dt::u8;
      Step step;
      step.loop = [from, to, n, c, h, w, oh, ow, u8] {
        if (u8)
          adaptiveAvgPool(static_cast<const uint8_t *>(from.get_data_handle()), static_cast<uint8_t *>(to.get_data_handle()), n, c, h, w, oh, ow);
        else
          adaptiveAvgPool(static_cast<const int8_t *>(from.get_data_handle()), static_cast<int8_t *>(to.get_data_handle()), n, c, h, w, oh, ow);
      };
      p.steps.push_back(std::move(step));
    } else if (l.kind == Kind::MaxPool) {
      PoolShape s{cur.get_desc(), nhwc(n, l.c, l.oh, l.ow, l.in), {l.sh, l.sw}, {l.kh, l.kw}, {0, 0}, {0, 0}};
      auto pd = poolFwdPd(s, false, dnnl::primitive_attr());
      next = dnnl::memory(pd.dst_desc(), cpuEngine());
      p.steps.push_back({PoolFwd(pd), {{DNNL_ARG_SRC, cur}, {DNNL_ARG_DST, next}}});
    } else if (l.kind == Kind::Conv) {
      ConvShape s;
      s.src = cur.get_desc();
      dims_t wDims = l.groups > 1 ? dims_t{l.groups, l.oc / l.groups, l.c / l.groups, l.kh, l.kw} : dims_t{l.oc, l.c, l.kh, l.kw};
      s.weights = anyDesc(wDims, dt::s8);
      s.bias = plainDesc({l.oc}, dt::f32);
      // f32 logits NCHW (the network's output); f32 before an LRN and every integer output NHWC.
      s.dst = l.out == Out::F32 && last ? md_t({n, l.oc, l.oh, l.ow}, dt::f32, tag::nchw) : nhwc(n, l.oc, l.oh, l.ow, dtOf(l.out));
      s.strides = {l.sh, l.sw};
      s.padL = {l.ph, l.pw};
      s.padR = {l.ph, l.pw};
      s.inference = true;
      auto pd = convFwdPd(s, weightAttr(l));
      dnnl::memory wm = packedWeights(net.stream, l, pd.weights_desc(), plainDesc(wDims, dt::s8));
      dnnl::memory bm(s.bias, cpuEngine(), l.bias.data());
      next = dnnl::memory(pd.dst_desc(), cpuEngine());
      p.steps.push_back({dnnl::convolution_forward(pd),
                         {{DNNL_ARG_SRC, cur}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, next}}});
    } else {
      int64_t k = l.c * l.h * l.w;
      // The previous NHWC (or 2-D) buffer seen as plain [n, k]: the same bytes.
      dnnl::memory src(plainDesc({n, k}, l.in), cpuEngine(), cur.get_data_handle());
      IpShape s{src.get_desc(), anyDesc({l.oc, k}, dt::s8), plainDesc({l.oc}, dt::f32), plainDesc({n, l.oc}, dtOf(l.out))};
#if DNNL_VERSION_MAJOR >= 3
      dnnl::inner_product_forward::primitive_desc pd(cpuEngine(), dnnl::prop_kind::forward_inference, s.src, s.weights, s.bias,
                                                     s.dst, weightAttr(l));
#else
      dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, s.src, s.weights, s.bias, s.dst);
      dnnl::inner_product_forward::primitive_desc pd(d, weightAttr(l), cpuEngine());
#endif
      dnnl::memory wm = packedWeights(net.stream, l, pd.weights_desc(), plainDesc({l.oc, k}, dt::s8));
      dnnl::memory bm(s.bias, cpuEngine(), l.bias.data());
      next = dnnl::memory(pd.dst_desc(), cpuEngine());
      p.steps.push_back({dnnl::inner_product_forward(pd),
                         {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_BIAS, bm}, {DNNL_ARG_DST, next}}});
    }
    cur = next;
  }
  p.output = cur;
  const Layer &last = net.layers.back();
  if (last.out != Out::F32) {
    // Integer outputs go back as their values in f32 NCHW (tests compare them with the reference).
    int64_t oc = Net::channelsOut(last);
    md_t from = cur.get_desc();
    md_t to = last.kind == Kind::Linear ? plainDesc({n, oc}, dt::f32) : md_t({n, oc, last.oh, last.ow}, dt::f32, tag::nchw);
    p.outputPlain = dnnl::memory(to, cpuEngine());
    p.steps.push_back({dnnl::reorder(reorderPd(from, to, dnnl::primitive_attr())), {{DNNL_ARG_FROM, cur}, {DNNL_ARG_TO, p.outputPlain}}});
  }
  return p;
}

/** Runs the network on n images (`x` f32 NCHW) into `y` (n · outCount floats). */
void runNet(Net &net, const float *x, int64_t n, float *y) {
  std::lock_guard<std::mutex> lock(net.mu);
  if (omp_get_max_threads() != threads()) omp_set_num_threads(threads());
  auto it = net.plans.find(n);
  if (it == net.plans.end()) {
    if (net.plans.size() >= 16) net.plans.clear(); // batch sizes seen by a server are few; bound them anyway
    it = net.plans.emplace(n, buildPlan(net, n)).first;
  }
  Plan &p = it->second;
  p.input.set_data_handle(const_cast<float *>(x));
  for (Step &s : p.steps) {
    if (s.loop) {
      net.stream.wait(); // the loop reads what the primitives before it wrote
      s.loop();
    } else {
      s.prim.execute(net.stream, s.args);
    }
  }
  net.stream.wait();
  p.input.set_data_handle(DNNL_MEMORY_NONE);
  const dnnl::memory &out = p.outputPlain ? p.outputPlain : p.output;
  std::memcpy(y, out.get_data_handle(), static_cast<size_t>(n * net.outCount()) * sizeof(float));
}

// ---- reading the spec --------------------------------------------------------------------------------------

template <class T> std::vector<T> typedArray(const Napi::Value &v, size_t expected, const std::string &what) {
  bool ok = v.IsTypedArray();
  if (ok) {
    auto t = v.As<Napi::TypedArray>();
    napi_typedarray_type want = std::is_same<T, int8_t>::value ? napi_int8_array : napi_float32_array;
    ok = t.TypedArrayType() == want;
  }
  if (!ok)
    throw Napi::TypeError::New(v.Env(), "native: " + what + (std::is_same<T, int8_t>::value ? " must be an Int8Array" : " must be a Float32Array"));
  auto t = v.As<Napi::TypedArrayOf<T>>();
  if (t.ElementLength() != expected)
    rangeError(v.Env(), what + " holds " + std::to_string(t.ElementLength()) + " values, the layer needs " + std::to_string(expected));
  return std::vector<T>(t.Data(), t.Data() + expected);
}

Out outOf(const Napi::Value &v, const std::string &what) {
  std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "u8") return Out::U8;
  if (s == "s8") return Out::S8;
  if (s == "f32") return Out::F32;
  throw Napi::TypeError::New(v.Env(), "native: " + what + " must be 'u8', 's8' or 'f32'");
}

/** One layer of the spec, its input shape (c, h, w, type) given; computes its output shape. */
Layer readLayer(const Napi::Value &v, int64_t c, int64_t h, int64_t w, dt in, const std::string &what) {
  Fields f(v, "int8 layer");
  Napi::Env env = f.env();
  Napi::Object o = v.As<Napi::Object>();
  std::string kind = o.Get("kind").IsString() ? o.Get("kind").As<Napi::String>().Utf8Value() : "";
  Layer l;
  l.c = c, l.h = h, l.w = w, l.in = in;
  if (kind == "lrn") {
    if (in != dt::f32) rangeError(env, what + ": an lrn must follow a layer with f32 output");
    l.kind = Kind::Lrn;
    l.lrnSize = f.dim("size");
    if (l.lrnSize % 2 == 0) rangeError(env, what + ".size must be odd");
    l.alpha = static_cast<float>(f.number("alpha")), l.beta = static_cast<float>(f.number("beta"));
    l.k = static_cast<float>(f.number("k"));
    l.outputScale = static_cast<float>(f.number("outputScale"));
    if (!(std::isfinite(l.alpha) && l.alpha >= 0 && std::isfinite(l.beta) && std::isfinite(l.k) && l.k > 0))
      rangeError(env, what + ": alpha must be finite and non-negative, beta finite, k finite and positive");
    if (!(std::isfinite(l.outputScale) && l.outputScale > 0)) rangeError(env, what + ".outputScale must be finite and positive");
    l.out = outOf(o.Get("out"), what + ".out");
    if (l.out == Out::F32) rangeError(env, what + ".out must be 'u8' or 's8'");
    l.oh = h, l.ow = w;
    return l;
  }
  if (in == dt::f32) rangeError(env, what + ": follows a layer with f32 output (only the last layer, or one before an lrn, may have one)");
  if (kind == "avgpool") {
    l.kind = Kind::AvgPool;
    l.oh = f.dim("oh"), l.ow = f.dim("ow");
    checkedCount(env, {h + 1, l.oh + 1, w + 1, l.ow + 1}, "int8 adaptive pool windows");
    l.out = in == dt::u8 ? Out::U8 : Out::S8;
    return l;
  }
  if (kind == "maxpool") {
    l.kind = Kind::MaxPool;
    l.kh = f.dim("kh"), l.kw = f.dim("kw"), l.sh = f.dim("strideH"), l.sw = f.dim("strideW");
    if (h < l.kh || w < l.kw) rangeError(env, what + ": the pooling window is larger than its input");
    l.oh = (h - l.kh) / l.sh + 1, l.ow = (w - l.kw) / l.sw + 1;
    l.out = in == dt::u8 ? Out::U8 : Out::S8;
    return l;
  }
  if (kind != "conv" && kind != "linear")
    throw Napi::TypeError::New(env, "native: " + what + ".kind must be 'conv', 'linear', 'maxpool', 'avgpool' or 'lrn'");
  l.oc = f.dim("oc");
  l.relu = f.flag("relu");
  l.out = outOf(o.Get("out"), what + ".out");
  size_t wCount;
  if (kind == "conv") {
    l.kind = Kind::Conv;
    l.kh = f.dim("kh"), l.kw = f.dim("kw"), l.sh = f.dim("strideH"), l.sw = f.dim("strideW");
    l.ph = f.nonNegative("padH"), l.pw = f.nonNegative("padW"), l.groups = f.dim("groups");
    if (c % l.groups != 0 || l.oc % l.groups != 0) rangeError(env, what + ": groups must divide the input and output channels");
    if (h + 2 * l.ph < l.kh || w + 2 * l.pw < l.kw) rangeError(env, what + ": the kernel is larger than its padded input");
    l.oh = (h + 2 * l.ph - l.kh) / l.sh + 1, l.ow = (w + 2 * l.pw - l.kw) / l.sw + 1;
    wCount = static_cast<size_t>(checkedCount(env, {l.oc, c / l.groups, l.kh, l.kw}, "int8 conv weight"));
  } else {
    l.kind = Kind::Linear;
    l.oh = l.ow = 1;
    wCount = static_cast<size_t>(checkedCount(env, {l.oc, c, h, w}, "int8 linear weight"));
  }
  l.weight = typedArray<int8_t>(o.Get("weight"), wCount, what + ".weight");
  l.scales = typedArray<float>(o.Get("scales"), static_cast<size_t>(l.oc), what + ".scales");
  l.bias = typedArray<float>(o.Get("bias"), static_cast<size_t>(l.oc), what + ".bias");
  for (float s : l.scales)
    if (!(std::isfinite(s) && s > 0)) rangeError(env, what + ".scales must be finite and positive");
  for (float b : l.bias)
    if (!std::isfinite(b)) rangeError(env, what + ".bias must be finite");
  return l;
}

// ---- JavaScript functions --------------------------------------------------------------------------------

// Live network handles: a handle is trusted only if it is one of these (any other External, a
// buffer handle say, is refused rather than reinterpreted).
std::mutex gNetsMu;
std::unordered_set<const void *> gNets;

void deleteNet(Napi::Env, NetPtr *p) {
  {
    std::lock_guard<std::mutex> lock(gNetsMu);
    gNets.erase(p);
  }
  delete p;
}

Napi::Value int8NetCreate(const Napi::CallbackInfo &info) {
  Fields f(info[0], "int8 network");
  Napi::Env env = info.Env();
  auto net = std::make_shared<Net>();
  net->c = f.dim("c"), net->h = f.dim("h"), net->w = f.dim("w");
  double s = f.number("inputScale");
  if (!(s > 0)) rangeError(env, "int8 network.inputScale must be positive");
  net->inputScale = static_cast<float>(s);
  Napi::Value layers = info[0].As<Napi::Object>().Get("layers");
  if (!layers.IsArray() || layers.As<Napi::Array>().Length() == 0)
    throw Napi::TypeError::New(env, "native: int8 network.layers must be a non-empty array");
  Napi::Array arr = layers.As<Napi::Array>();
  int64_t c = net->c, h = net->h, w = net->w;
  dt in = dt::s8;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Layer l = readLayer(arr.Get(i), c, h, w, in, "int8 layer " + std::to_string(i));
    if (l.kind == Kind::Lrn && net->layers.back().kind != Kind::Conv)
      rangeError(env, "int8 layer " + std::to_string(i) + ": an lrn must follow a convolution");
    c = Net::channelsOut(l), h = l.oh, w = l.ow, in = dtOf(l.out);
    net->layers.push_back(std::move(l));
  }
  auto *handle = new NetPtr(net);
  {
    std::lock_guard<std::mutex> lock(gNetsMu);
    gNets.insert(handle);
  }
  return Napi::External<NetPtr>::New(env, handle, deleteNet);
}

NetPtr netOf(const Napi::Value &v) {
  if (v.IsExternal()) {
    NetPtr *p = v.As<Napi::External<NetPtr>>().Data();
    std::lock_guard<std::mutex> lock(gNetsMu);
    if (gNets.count(p)) return *p;
  }
  throw Napi::TypeError::New(v.Env(), "native: not an int8 network handle");
}

/** The input array and batch size, checked against the network. */
std::pair<Napi::Float32Array, int64_t> inputOf(const Napi::CallbackInfo &info, const Net &net) {
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(info.Env(), "native: int8 input must be a Float32Array");
  auto x = info[1].As<Napi::Float32Array>();
  int64_t n = integer(info[2], 1, "int8 batch size");
  int64_t per = checkedCount(info.Env(), {net.c, net.h, net.w}, "int8 input");
  if (static_cast<int64_t>(x.ElementLength()) != checkedMul(info.Env(), n, per, "int8 input"))
    rangeError(info.Env(), "int8 input holds " + std::to_string(x.ElementLength()) + " values, " + std::to_string(n) + " images need " +
                               std::to_string(n * per));
  checkedMul(info.Env(), n, net.outCount(), "int8 output");
  return {x, n};
}

Napi::Value int8NetRun(const Napi::CallbackInfo &info) {
  NetPtr net = netOf(info[0]);
  auto [x, n] = inputOf(info, *net);
  auto y = Napi::Float32Array::New(info.Env(), static_cast<size_t>(n * net->outCount()));
  try {
    runNet(*net, x.Data(), n, y.Data());
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("native: int8 network failed: ") + e.what());
  }
  return y;
}

class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, NetPtr net, const float *x, int64_t n)
      : Napi::AsyncWorker(env), net_(std::move(net)), x_(x, x + n * net_->c * net_->h * net_->w), n_(n),
        y_(static_cast<size_t>(n * net_->outCount())), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      runNet(*net_, x_.data(), n_, y_.data());
    } catch (const std::exception &e) {
      SetError(std::string("native: int8 network failed: ") + e.what());
    }
  }
  void OnOK() override {
    try {
      auto y = Napi::Float32Array::New(Env(), y_.size());
      std::copy(y_.begin(), y_.end(), y.Data());
      deferred_.Resolve(y);
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
  NetPtr net_;
  std::vector<float> x_;
  int64_t n_;
  std::vector<float> y_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value int8NetRunAsync(const Napi::CallbackInfo &info) {
  NetPtr net = netOf(info[0]);
  auto [x, n] = inputOf(info, *net);
  auto *w = new RunWorker(info.Env(), net, x.Data(), n);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

} // namespace

void registerInt8(Napi::Env env, Napi::Object exports) {
  exports.Set("int8NetCreate", Napi::Function::New(env, int8NetCreate));
  exports.Set("int8NetRun", Napi::Function::New(env, int8NetRun));
  exports.Set("int8NetRunAsync", Napi::Function::New(env, int8NetRunAsync));
}

} // namespace ax
