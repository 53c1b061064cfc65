// One in-place SGD step with PyTorch's rule, on the plain f32 master weights:
//   d = g + wd·p;  buf = first ? d : momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf (when momentum ≠ 0);  p −= lr·d.
// Writing the parameter invalidates its cached reordered (blocked/bf16) copies.
#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

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
  MemPtr p = param->mem;
  touched(*param);
  int64_t n = static_cast<int64_t>(param->size());
  submit([p, g, m, n, lr, momentum, dampening, wd, nesterov, first] {
    float *pv = p->f32();
    const float *gv = g->f32();
    float *mv = m ? m->f32() : nullptr;
#pragma omp parallel for if (n > 32768)
    for (int64_t i = 0; i < n; i++) {
      float d = gv[i] + wd * pv[i];
      if (mv) {
        float b = first ? d : momentum * mv[i] + (1.f - dampening) * d;
        mv[i] = b;
        d = nesterov ? d + momentum * b : b;
      }
      pv[i] -= lr * d;
    }
  });
  return info.Env().Undefined();
}

} // namespace

void registerOptim(Napi::Env env, Napi::Object exports) { exports.Set("sgdStep", Napi::Function::New(env, sgdStep)); }

} // namespace ax
