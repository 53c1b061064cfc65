// Entry point of the alexnet_mpi addon: a thin binding of MPI_COMM_WORLD's collectives. Every MPI
// call runs on one communication thread (comm_thread.hpp); the collectives return promises, so
// JavaScript keeps computing (backward) while buffers are reduced. Buffers are typed arrays, reduced
// in place and kept alive until their promise settles; JS must not touch them before that.
//   init() -> { rank, size, threadLevel }            (synchronous; idempotent)
//   allreduce(buf, op: 'sum' | 'max' | 'min') -> Promise<number>   seconds the MPI call took
//   allgather(send, recv) -> Promise<number>         recv.length = size × send.length, same type
//   broadcast(buf, root) -> Promise<number>
//   allgatherSync(send, recv) -> number              blocks JavaScript until done (seconds): for the
//   reduceScatterSync(send, recv) -> number          collectives inside a forward or backward pass
//                                                     (sum; send.length = size × recv.length)
//   barrier() -> Promise<number>
//   finalize()                                       (synchronous: after every queued job)
//   abort(code)                                      (ends every rank of the job)
//   toBf16(src: Float32Array, dst: Uint16Array); fromBf16(src: Uint16Array, dst: Float32Array, scale)
// Element types: Float32Array (MPI_FLOAT), Float64Array (MPI_DOUBLE), Int32Array (MPI_INT),
// Uint8Array (MPI_UNSIGNED_CHAR) and Uint16Array, which holds bfloat16 bits (summed through f32
// with round-to-nearest-even by a user-defined MPI_Op).
#include <mpi.h>
#include <napi.h>

#include <chrono>
#include <climits>
#include <cstring>
#include <future>
#include <memory>

#include "bf16.hpp"
#include "comm_thread.hpp"

namespace {

using axmpi::CommThread;

// Never destroyed: a process may exit while the MPI thread is blocked in a collective (a peer died).
CommThread& comm = *new CommThread();
axmpi::WorldInfo world;
bool initialised = false;
bool finalised = false;
MPI_Op bf16Sum = MPI_OP_NULL;
Napi::ThreadSafeFunction done;
int pending = 0;

/** A collective in flight: what keeps its buffers alive, its promise, its outcome. */
struct Op {
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> keep;
  std::string error;
  double seconds = 0;
  explicit Op(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

/** A typed array's memory and MPI type. */
struct View {
  void* data;
  size_t length;
  MPI_Datatype type;
  bool bf16;
  napi_typedarray_type kind;
  size_t bytes() const { return length * (type == MPI_DOUBLE ? 8 : type == MPI_FLOAT || type == MPI_INT ? 4 : bf16 ? 2 : 1); }
};

View viewOf(const Napi::Value& v, const char* what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a typed array");
  auto ta = v.As<Napi::TypedArray>();
  View out{static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ElementLength(), MPI_DATATYPE_NULL, false,
           ta.TypedArrayType()};
  switch (out.kind) {
    case napi_float32_array: out.type = MPI_FLOAT; break;
    case napi_float64_array: out.type = MPI_DOUBLE; break;
    case napi_int32_array: out.type = MPI_INT; break;
    case napi_uint8_array: out.type = MPI_UNSIGNED_CHAR; break;
    case napi_uint16_array:
      out.type = MPI_UINT16_T;
      out.bf16 = true;
      break;
    default:
      throw Napi::TypeError::New(v.Env(), std::string(what) + ": Float32Array, Float64Array, Int32Array, Uint8Array or Uint16Array (bf16) expected");
  }
  if (out.length > static_cast<size_t>(INT_MAX)) throw Napi::RangeError::New(v.Env(), std::string(what) + " is too long for one MPI call");
  return out;
}

void requireWorld(Napi::Env env) {
  if (!initialised) throw Napi::Error::New(env, "MPI is not initialised (call init() first)");
  if (finalised) throw Napi::Error::New(env, "MPI is finalised");
}

/** Posts `run` (returning an MPI code) to the MPI thread; the promise settles on the JS thread. */
Napi::Value submit(Napi::Env env, std::vector<Napi::Value> buffers, std::function<int()> run) {
  auto* op = new Op(env);
  for (auto& b : buffers) op->keep.push_back(Napi::Persistent(b));
  Napi::Promise promise = op->deferred.Promise();
  if (pending++ == 0) done.Ref(env);
  comm.post([op, run = std::move(run)] {
    auto t0 = std::chrono::steady_clock::now();
    int rc = run();
    op->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (rc != MPI_SUCCESS) op->error = axmpi::mpiError(rc);
    done.NonBlockingCall(op, [](Napi::Env env, Napi::Function, Op* op) {
      std::unique_ptr<Op> owned(op);
      if (--pending == 0) done.Unref(env);
      if (op->error.empty())
        op->deferred.Resolve(Napi::Number::New(env, op->seconds));
      else
        op->deferred.Reject(Napi::Error::New(env, "MPI: " + op->error).Value());
    });
  });
  return promise;
}

/**
 * Runs `run` on the MPI thread (behind every queued job) and blocks the JS thread until it is done:
 * the hybrid step's all-gathers and reduce-scatters sit inside one synchronous forward/backward.
 * The buffers belong to the caller's frame, which outlives the call.
 */
Napi::Value runSync(Napi::Env env, std::function<int()> run) {
  std::promise<std::pair<int, double>> result;
  std::future<std::pair<int, double>> outcome = result.get_future();
  comm.post([&result, &run] {
    auto t0 = std::chrono::steady_clock::now();
    int rc = run();
    result.set_value({rc, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
  });
  auto [rc, seconds] = outcome.get();
  if (rc != MPI_SUCCESS) throw Napi::Error::New(env, "MPI: " + axmpi::mpiError(rc));
  return Napi::Number::New(env, seconds);
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (finalised) throw Napi::Error::New(env, "MPI was finalised in this process and cannot start again");
  if (!initialised) {
    world = comm.start();
    if (!world.error.empty()) throw Napi::Error::New(env, world.error);
    initialised = true;
    done = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "alexnet_mpi", 0, 1);
    done.Unref(env);
    comm.post([] { MPI_Op_create(&axmpi::bf16SumOp, 1, &bf16Sum); });
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("rank", world.rank);
  o.Set("size", world.size);
  o.Set("threadLevel", world.threadLevel);
  return o;
}

/** The reduction's name ('sum' when not given), checked. */
std::string opName(Napi::Env env, const Napi::Value& v, bool bf16) {
  std::string name = v.IsString() ? v.As<Napi::String>().Utf8Value() : "sum";
  if (name != "sum" && name != "max" && name != "min") throw Napi::TypeError::New(env, "allreduce: op must be 'sum', 'max' or 'min'");
  if (bf16 && name != "sum") throw Napi::TypeError::New(env, "allreduce: bf16 buffers support only 'sum'");
  return name;
}

Napi::Value Allreduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWorld(env);
  View b = viewOf(info[0], "allreduce: buffer");
  bool bf16 = b.bf16;
  std::string name = opName(env, info[1], bf16);
  // bf16Sum is created on the MPI thread before any collective runs: read it there.
  return submit(env, {info[0]}, [b, bf16, name] {
    MPI_Op op = bf16 ? bf16Sum : name == "max" ? MPI_MAX : name == "min" ? MPI_MIN : MPI_SUM;
    return MPI_Allreduce(MPI_IN_PLACE, b.data, static_cast<int>(b.length), b.type, op, MPI_COMM_WORLD);
  });
}

Napi::Value Allgather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWorld(env);
  View s = viewOf(info[0], "allgather: send buffer");
  View r = viewOf(info[1], "allgather: receive buffer");
  if (s.kind != r.kind) throw Napi::TypeError::New(env, "allgather: send and receive buffers must have the same element type");
  if (r.length != s.length * static_cast<size_t>(world.size))
    throw Napi::RangeError::New(env, "allgather: the receive buffer must hold size × the send buffer's length");
  auto* s0 = static_cast<const uint8_t*>(s.data);
  auto* r0 = static_cast<const uint8_t*>(r.data);
  if (s.length > 0 && s0 < r0 + r.bytes() && r0 < s0 + s.bytes())
    throw Napi::RangeError::New(env, "allgather: the send and receive buffers must not share memory");
  return submit(env, {info[0], info[1]}, [s, r] {
    return MPI_Allgather(s.data, static_cast<int>(s.length), s.type, r.data, static_cast<int>(s.length), r.type, MPI_COMM_WORLD);
  });
}

/** The send and receive buffers of a gather or scatter: same element type, lengths send = k × recv (or the reverse), no shared memory. */
void checkPair(Napi::Env env, const View& s, const View& r, size_t sendPerRecv, size_t recvPerSend, const char* what) {
  std::string name(what);
  if (s.kind != r.kind) throw Napi::TypeError::New(env, name + ": send and receive buffers must have the same element type");
  if (s.length * recvPerSend != r.length * sendPerRecv)
    throw Napi::RangeError::New(env, name + (recvPerSend > 1 ? ": the receive buffer must hold size × the send buffer's length"
                                                             : ": the send buffer must hold size × the receive buffer's length"));
  auto* s0 = static_cast<const uint8_t*>(s.data);
  auto* r0 = static_cast<const uint8_t*>(r.data);
  if (s.length > 0 && r.length > 0 && s0 < r0 + r.bytes() && r0 < s0 + s.bytes())
    throw Napi::RangeError::New(env, name + ": the send and receive buffers must not share memory");
}

Napi::Value AllgatherSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWorld(env);
  View s = viewOf(info[0], "allgatherSync: send buffer");
  View r = viewOf(info[1], "allgatherSync: receive buffer");
  checkPair(env, s, r, 1, static_cast<size_t>(world.size), "allgatherSync");
  return runSync(env, [s, r] {
    return MPI_Allgather(s.data, static_cast<int>(s.length), s.type, r.data, static_cast<int>(s.length), r.type, MPI_COMM_WORLD);
  });
}

Napi::Value ReduceScatterSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWorld(env);
  View s = viewOf(info[0], "reduceScatterSync: send buffer");
  View r = viewOf(info[1], "reduceScatterSync: receive buffer");
  if (s.bf16) throw Napi::TypeError::New(env, "reduceScatterSync: bf16 buffers are not supported");
  checkPair(env, s, r, static_cast<size_t>(world.size), 1, "reduceScatterSync");
  return runSync(env, [s, r] {
    return MPI_Reduce_scatter_block(s.data, r.data, static_cast<int>(r.length), r.type, MPI_SUM, MPI_COMM_WORLD);
  });
}

Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireWorld(env);
  View b = viewOf(info[0], "broadcast: buffer");
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "broadcast: root must be a rank number");
  int root = info[1].As<Napi::Number>().Int32Value();
  if (root < 0 || root >= world.size) throw Napi::RangeError::New(env, "broadcast: root is not a rank of this job");
  return submit(env, {info[0]}, [b, root] { return MPI_Bcast(b.data, static_cast<int>(b.length), b.type, root, MPI_COMM_WORLD); });
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  requireWorld(info.Env());
  return submit(info.Env(), {}, [] { return MPI_Barrier(MPI_COMM_WORLD); });
}

void Finalize(const Napi::CallbackInfo& info) {
  if (!initialised || finalised) return;
  finalised = true;
  comm.post([] {
    if (bf16Sum != MPI_OP_NULL) MPI_Op_free(&bf16Sum);
  });
  comm.finalize();
  done.Release();
  (void)info;
}

void Abort(const Napi::CallbackInfo& info) {
  int code = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1;
  // The MPI thread may be blocked in a collective that will never complete; MPI_Abort from this
  // thread ends the whole job (it does not return).
  if (initialised && !finalised) MPI_Abort(MPI_COMM_WORLD, code);
}

void ToBf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
      !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array)
    throw Napi::TypeError::New(env, "toBf16(src: Float32Array, dst: Uint16Array)");
  auto src = info[0].As<Napi::Float32Array>();
  auto dst = info[1].As<Napi::Uint16Array>();
  if (src.ElementLength() != dst.ElementLength()) throw Napi::RangeError::New(env, "toBf16: lengths differ");
  axmpi::toBf16(src.Data(), dst.Data(), src.ElementLength());
}

void FromBf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint16_array ||
      !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !info[2].IsNumber())
    throw Napi::TypeError::New(env, "fromBf16(src: Uint16Array, dst: Float32Array, scale: number)");
  auto src = info[0].As<Napi::Uint16Array>();
  auto dst = info[1].As<Napi::Float32Array>();
  if (src.ElementLength() != dst.ElementLength()) throw Napi::RangeError::New(env, "fromBf16: lengths differ");
  axmpi::fromBf16(src.Data(), dst.Data(), src.ElementLength(), info[2].As<Napi::Number>().FloatValue());
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("allreduce", Napi::Function::New(env, Allreduce));
  exports.Set("allgather", Napi::Function::New(env, Allgather));
  exports.Set("allgatherSync", Napi::Function::New(env, AllgatherSync));
  exports.Set("reduceScatterSync", Napi::Function::New(env, ReduceScatterSync));
  exports.Set("broadcast", Napi::Function::New(env, Broadcast));
  exports.Set("barrier", Napi::Function::New(env, Barrier));
  exports.Set("finalize", Napi::Function::New(env, Finalize));
  exports.Set("abort", Napi::Function::New(env, Abort));
  exports.Set("toBf16", Napi::Function::New(env, ToBf16));
  exports.Set("fromBf16", Napi::Function::New(env, FromBf16));
  return exports;
}

}  // namespace

NODE_API_MODULE(alexnet_mpi, Register)
