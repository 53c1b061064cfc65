// Registration of every op family's JS functions (one file per family) and shared helpers.
#pragma once

#include "core.hpp"

namespace ax {

void registerMemory(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerConv(Napi::Env env, Napi::Object exports);
void registerPool(Napi::Env env, Napi::Object exports);
void registerLrn(Napi::Env env, Napi::Object exports);
void registerLinear(Napi::Env env, Napi::Object exports);
void registerLoss(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerRuntime(Napi::Env env, Napi::Object exports);

/** `b` as plain f32 memory (a reorder is enqueued when it is blocked; not cached). */
inline MemPtr plainF32(Buf &b) { return inLayout(b, plainDesc(descDims(b.md), dt::f32), false); }

/** A JS number argument (throws a TypeError naming it otherwise). */
inline double num(const Napi::Value &v, const char *what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string("native: ") + what + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

} // namespace ax
