// The exports of the kernels module (wasm/*.c) as TypeScript sees them, the imports it needs
// (the memory and exact Math functions), and its instantiation. Pointers are byte offsets into
// the module's memory; parallel kernels end with (tid, nthreads).

type Ptr = number;
type Par = [tid: number, nthreads: number];

/** Every kernel the backend calls, by export name (names and argument order are the C interface). */
export interface KernelExports {
  conv2d_forward(x: Ptr, w: Ptr, packedW: Ptr, b: Ptr, y: Ptr, geom: Ptr, relu: number, scratch: Ptr, ...t: Par): void;
  conv2d_pack_weights(w: Ptr, packedW: Ptr, geom: Ptr, ...t: Par): void;
  conv2d_packed_weights_bytes(geom: Ptr): number;
  conv2d_winograd_eligible(geom: Ptr): number;
  conv2d_winograd_pack_weights(w: Ptr, packed: Ptr, scratch: Ptr, geom: Ptr, ...t: Par): void;
  conv2d_winograd_weights_bytes(geom: Ptr): number;
  conv2d_winograd_pack_scratch_bytes(geom: Ptr, nthreads: number): number;
  conv2d_winograd_forward(x: Ptr, packed: Ptr, b: Ptr, y: Ptr, geom: Ptr, relu: number, scratch: Ptr, ...t: Par): void;
  conv2d_winograd_scratch_bytes(geom: Ptr, nthreads: number): number;
  all_finite_f32(x: Ptr, n: number): number;
  conv2d_backward_data(gy: Ptr, w: Ptr, gx: Ptr, geom: Ptr, scratch: Ptr, ...t: Par): void;
  conv2d_backward_weights(gy: Ptr, x: Ptr, gw: Ptr, gb: Ptr, geom: Ptr, scratch: Ptr, ...t: Par): void;
  conv2d_forward_scratch_bytes(geom: Ptr, nthreads: number): number;
  conv2d_backward_data_scratch_bytes(geom: Ptr, nthreads: number): number;
  conv2d_backward_weights_scratch_bytes(geom: Ptr, nthreads: number): number;
  linear_forward(x: Ptr, w: Ptr, b: Ptr, y: Ptr, m: number, k: number, n: number, relu: number, scratch: Ptr, ...t: Par): void;
  linear_backward_data(gy: Ptr, w: Ptr, gx: Ptr, m: number, k: number, n: number, scratch: Ptr, ...t: Par): void;
  linear_backward_weights(gy: Ptr, x: Ptr, gw: Ptr, gb: Ptr, m: number, k: number, n: number, scratch: Ptr, ...t: Par): void;
  linear_forward_scratch_bytes(m: number, k: number, n: number, nthreads: number): number;
  linear_backward_data_scratch_bytes(m: number, k: number, n: number, nthreads: number): number;
  linear_backward_weights_scratch_bytes(m: number, k: number, n: number, nthreads: number): number;

  unary_f32(op: number, x: Ptr, y: Ptr, n: number, ...t: Par): void;
  binary_f32(op: number, a: Ptr, b: Ptr, y: Ptr, n: number, ...t: Par): void;
  scalar_f32(op: number, x: Ptr, v: number, y: Ptr, n: number, ...t: Par): void;
  axpy_f32(dst: Ptr, src: Ptr, alpha: number, n: number, ...t: Par): void;
  add_bias_f32(x: Ptr, b: Ptr, y: Ptr, outer: number, c: number, inner: number, ...t: Par): void;
  relu_f32(x: Ptr, y: Ptr, n: number, ...t: Par): void;
  relu_backward_f32(gy: Ptr, y: Ptr, gx: Ptr, n: number, ...t: Par): void;
  sum_all_f32(x: Ptr, y: Ptr, n: number): void;
  sum_axis_f32(x: Ptr, y: Ptr, outer: number, len: number, inner: number, ...t: Par): void;
  fill_f32(y: Ptr, v: number, n: number): void;
  max_pool_forward_f32(x: Ptr, y: Ptr, argmax: Ptr, geom: Ptr, ...t: Par): void;
  max_pool_backward_f32(gy: Ptr, argmax: Ptr, gx: Ptr, geom: Ptr, ...t: Par): void;
  adaptive_avg_pool_forward_f32(x: Ptr, y: Ptr, geom: Ptr, ...t: Par): void;
  adaptive_avg_pool_backward_f32(gy: Ptr, gx: Ptr, geom: Ptr, ...t: Par): void;
  lrn_forward_f32(
    x: Ptr,
    y: Ptr,
    scale: Ptr,
    n: number,
    c: number,
    s: number,
    size: number,
    alpha: number,
    beta: number,
    k: number,
    ...t: Par
  ): void;
  lrn_backward_f32(
    gy: Ptr,
    x: Ptr,
    y: Ptr,
    scale: Ptr,
    gx: Ptr,
    n: number,
    c: number,
    s: number,
    size: number,
    alpha: number,
    beta: number,
    ...t: Par
  ): void;
  log_softmax_f32(x: Ptr, y: Ptr, n: number, c: number, ...t: Par): void;
  log_softmax_backward_f32(gy: Ptr, y: Ptr, gx: Ptr, n: number, c: number, ...t: Par): void;
  softmax_xent_f32(logits: Ptr, labels: Ptr, probs: Ptr, rowLoss: Ptr, n: number, c: number, ...t: Par): void;
  softmax_xent_backward_f32(probs: Ptr, labels: Ptr, gx: Ptr, n: number, c: number, scale: number, ...t: Par): void;
  dropout_f32(x: Ptr, y: Ptr, mask: Ptr, n: number, p: number, keepScale: number, seedLo: number, seedHi: number, ...t: Par): void;
  sgd_step_f32(
    param: Ptr,
    grad: Ptr,
    buf: Ptr,
    n: number,
    negLr: number,
    momentum: number,
    keep: number,
    wd: number,
    nesterov: number,
    firstStep: number,
    ...t: Par
  ): void;
  runtime_heap_base(): number;
}

/** The kernels that run on every thread of the pool (those ending with tid, nthreads), by index. */
export const PARALLEL_KERNELS = [
  'conv2d_forward',
  'conv2d_backward_data',
  'conv2d_backward_weights',
  'linear_forward',
  'linear_backward_data',
  'linear_backward_weights',
  'unary_f32',
  'binary_f32',
  'scalar_f32',
  'axpy_f32',
  'add_bias_f32',
  'relu_f32',
  'relu_backward_f32',
  'sum_axis_f32',
  'max_pool_forward_f32',
  'max_pool_backward_f32',
  'adaptive_avg_pool_forward_f32',
  'adaptive_avg_pool_backward_f32',
  'lrn_forward_f32',
  'lrn_backward_f32',
  'log_softmax_f32',
  'log_softmax_backward_f32',
  'softmax_xent_f32',
  'softmax_xent_backward_f32',
  'dropout_f32',
  'sgd_step_f32',
  'conv2d_pack_weights',
  'conv2d_winograd_pack_weights',
  'conv2d_winograd_forward',
] as const satisfies readonly (keyof KernelExports)[];
export type ParallelKernel = (typeof PARALLEL_KERNELS)[number];

/** The module's imports: its memory and the exact Math functions the C code calls. */
export function kernelImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return { env: { memory, exp: Math.exp, log: Math.log, pow: Math.pow } };
}

/**
 * A new memory for the module: shared (for threads) or plain, growable to 4 GiB; where the engine
 * cannot reserve that much address space (a 32-bit browser), to 1 GiB. Returns it with its limit.
 */
export function newMemory(shared: boolean): { memory: WebAssembly.Memory; maxBytes: number } {
  const make = (pages: number) => ({ memory: new WebAssembly.Memory({ initial: 32, maximum: pages, shared }), maxBytes: pages * 65536 });
  try {
    return make(65536);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return make(16384);
  }
}

/** Instantiates the module on `memory`; a mismatch (threaded vs plain build) is a clear error. */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): WebAssembly.Instance {
  const missing = ['conv2d_forward', 'linear_forward', 'unary_f32', 'runtime_heap_base'].filter(
    (n) => !WebAssembly.Module.exports(module).some((e) => e.name === n),
  );
  if (missing.length > 0) throw new Error(`wasm backend: the kernels module lacks ${missing.join(', ')} (a stale or foreign .wasm?)`);
  try {
    return new WebAssembly.Instance(module, kernelImports(memory));
  } catch (err) {
    const shared = memory.buffer instanceof ArrayBuffer ? 'plain' : 'shared';
    throw new Error(`wasm backend: cannot instantiate the kernels module on ${shared} memory (${(err as Error).message})`);
  }
}

export function kernelsOf(instance: WebAssembly.Instance): KernelExports {
  return instance.exports as unknown as KernelExports;
}
