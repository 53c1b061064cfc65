// Log-softmax forward/backward and softmax cross-entropy (mean over the batch) on logits [n, c],
// as plain loops in double accumulation. Labels are checked here as well as in TypeScript.
#include <cmath>
#include <limits>

#include "geometry.hpp"
#include "ops.hpp"

namespace ax {

namespace {

struct Nc {
  int64_t n, c;
};

Nc readNc(const Napi::CallbackInfo &info, int at, const Buf &x) {
  int64_t n = integer(info[at], 1, "n"), c = integer(info[at + 1], 1, "c");
  expectSize(info.Env(), x, checkedMul(info.Env(), n, c, "logits"), "logits");
  return {n, c};
}

Napi::Int32Array readLabels(const Napi::Value &v, int64_t n, int64_t c) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) throw Napi::TypeError::New(v.Env(), "native: labels must be an Int32Array");
  auto labels = v.As<Napi::Int32Array>();
  if (static_cast<int64_t>(labels.ElementLength()) != n) throw Napi::RangeError::New(v.Env(), "native: labels length must be n");
  for (int64_t i = 0; i < n; i++) {
    int32_t l = labels.Data()[i];
    if (l < 0 || l >= c) throw Napi::RangeError::New(v.Env(), "native: label " + std::to_string(l) + " outside [0, " + std::to_string(c) + ")");
  }
  return labels;
}

/**
 * Writes log-softmax of each row of x into y as PyTorch computes it: x − max − log Σ exp(x − max),
 * the max taken over the non-NaN values; a NaN or +inf in the row (exp of NaN, inf − inf) or a
 * row of -inf (−inf − −inf) makes the whole row NaN.
 */
void logSoftmaxRows(const float *x, float *y, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; i++) {
    const float *row = x + i * c;
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < c; j++) m = row[j] > m ? row[j] : m;
    double s = 0;
    for (int64_t j = 0; j < c; j++) s += std::exp(static_cast<double>(row[j] - m));
    float lse = m + static_cast<float>(std::log(s));
    for (int64_t j = 0; j < c; j++) y[i * c + j] = row[j] - lse;
  }
}

Napi::Value logSoftmax(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "log_softmax input");
  Nc s = readNc(info, 1, *x);
  MemPtr xs = plainF32(*x);
  BufPtr y = newBuf(plainDesc({s.n, s.c}));
  MemPtr ym = y->mem;
  submit([xs, ym, s] { logSoftmaxRows(xs->f32(), ym->f32(), s.n, s.c); });
  return wrap(info.Env(), y);
}

Napi::Value logSoftmaxBackward(const Napi::CallbackInfo &info) {
  BufPtr gy = unwrap(info[0], "log_softmax output gradient");
  BufPtr y = unwrap(info[1], "log_softmax output");
  Nc s = readNc(info, 2, *y);
  MemPtr dys = plainF32(*gy), ys = plainF32(*y);
  BufPtr dx = newBuf(plainDesc({s.n, s.c}));
  MemPtr dxm = dx->mem;
  submit([dys, ys, dxm, s] {
    const float *dy = dys->f32(), *yv = ys->f32();
    float *r = dxm->f32();
    for (int64_t i = 0; i < s.n; i++) {
      double acc = 0;
      for (int64_t j = 0; j < s.c; j++) acc += dy[i * s.c + j];
      for (int64_t j = 0; j < s.c; j++) r[i * s.c + j] = dy[i * s.c + j] - std::exp(yv[i * s.c + j]) * static_cast<float>(acc);
    }
  });
  return wrap(info.Env(), dx);
}

Napi::Value softmaxCrossEntropy(const Napi::CallbackInfo &info) {
  BufPtr x = unwrap(info[0], "cross_entropy logits");
  Nc s = readNc(info, 2, *x);
  auto labelsJs = readLabels(info[1], s.n, s.c);
  auto labels = std::make_shared<std::vector<int32_t>>(labelsJs.Data(), labelsJs.Data() + s.n);
  MemPtr xs = plainF32(*x);
  BufPtr probs = newBuf(plainDesc({s.n, s.c}));
  MemPtr pm = probs->mem;
  auto loss = std::make_shared<double>(0);
  submit([xs, pm, s, labels, loss] {
    float *p = pm->f32();
    logSoftmaxRows(xs->f32(), p, s.n, s.c);
    double total = 0;
    for (int64_t i = 0; i < s.n; i++) total -= p[i * s.c + (*labels)[i]];
    for (int64_t i = 0; i < s.n * s.c; i++) p[i] = std::exp(p[i]);
    *loss = total / static_cast<double>(s.n);
  });
  flushSync(); // the loss is a JS number: run queued work now
  std::vector<std::function<void()>> wait;
  runTasks(wait); // waits for an async flush in flight
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, *loss));
  out.Set(1u, wrap(env, probs));
  return out;
}

Napi::Value softmaxCrossEntropyBackward(const Napi::CallbackInfo &info) {
  BufPtr probs = unwrap(info[0], "cross_entropy probabilities");
  Nc s = readNc(info, 2, *probs);
  auto labelsJs = readLabels(info[1], s.n, s.c);
  auto labels = std::make_shared<std::vector<int32_t>>(labelsJs.Data(), labelsJs.Data() + s.n);
  float scale = static_cast<float>(num(info[4], "scale"));
  MemPtr ps = plainF32(*probs);
  BufPtr dx = newBuf(plainDesc({s.n, s.c}));
  MemPtr dxm = dx->mem;
  submit([ps, dxm, s, labels, scale] {
    const float *p = ps->f32();
    float *r = dxm->f32();
    float k = scale / static_cast<float>(s.n);
    for (int64_t i = 0; i < s.n; i++) {
      for (int64_t j = 0; j < s.c; j++) r[i * s.c + j] = (p[i * s.c + j] - ((*labels)[i] == j ? 1.f : 0.f)) * k;
    }
  });
  return wrap(info.Env(), dx);
}

} // namespace

void registerLoss(Napi::Env env, Napi::Object exports) {
  exports.Set("logSoftmax", Napi::Function::New(env, logSoftmax));
  exports.Set("logSoftmaxBackward", Napi::Function::New(env, logSoftmaxBackward));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, softmaxCrossEntropy));
  exports.Set("softmaxCrossEntropyBackward", Napi::Function::New(env, softmaxCrossEntropyBackward));
}

} // namespace ax
