// Entry point of the alexnet_native addon: registers every op family's functions.
#include "ops.hpp"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  ax::registerMemory(env, exports);
  ax::registerElementwise(env, exports);
  ax::registerConv(env, exports);
  ax::registerPool(env, exports);
  ax::registerLrn(env, exports);
  ax::registerLinear(env, exports);
  ax::registerLoss(env, exports);
  ax::registerOptim(env, exports);
  ax::registerRuntime(env, exports);
  ax::registerInt8(env, exports);
  return exports;
}

} // namespace

NODE_API_MODULE(alexnet_native, init)
