// The compiled oneDNN addon (build/Release/alexnet_native.node): its typed surface and loading.
// OpenMP reads its variables once when the addon (and libgomp) load, so they are set here first:
// the wait policy of idle OpenMP threads (openMpWaitDefaults) and OMP_NUM_THREADS from
// ALEXNET_NUM_THREADS when given.
import type { AdaptivePoolGeometry, ConvGeometry, LinearGeometry, LrnParams, PoolGeometry, SgdParams } from '../backend.js';
import type { Int8NetSpec } from '../../quant/int8_spec.js';
import { addonCandidates, addonFile, loadNativeAddon, packageRoot as rootOfPackage } from '../../native_addons.js';

/** Opaque handle of an int8 network built by the addon (native/int8.cpp). */
export interface Int8NetHandle {
  readonly __int8Net: never;
}

/** Opaque native buffer handle (an External owning a oneDNN memory). */
export interface Handle {
  readonly __nativeHandle: never;
}

export interface NativeInfo {
  /** Instruction set oneDNN dispatches to, e.g. 'avx512_core_bf16'. */
  isa: string;
  /** Whether bf16 convolutions run natively (AVX512_BF16 or AMX). */
  bf16: boolean;
  /** oneDNN version, e.g. '2.6.3'. */
  onednn: string;
}

/**
 * The addon's functions. Geometry crosses as the backend's own objects (the addon reads their
 * fields by name and checks them against the buffers: native/geometry.hpp); booleans go in
 * option objects, an absent option being false.
 */
export interface NativeAddon {
  fromArray(data: Float32Array, dims: number[]): Handle;
  toArray(h: Handle): Float32Array;
  full(dims: number[], value: number): Handle;
  clone(h: Handle): Handle;
  /** Copies `values` into the buffer's plain f32 elements from `offset` on (in place; cached reorders go stale). */
  writeAt(h: Handle, offset: number, values: Float32Array): void;
  /** Copies the buffer's plain f32 elements into `dst` from `offset` on. */
  readInto(h: Handle, dst: Float32Array, offset: number): void;
  reshape(h: Handle, dims: number[]): Handle;
  dispose(h: Handle): void;
  liveBuffers(): number;
  layoutOf(h: Handle): string;
  /** Test hook: [checked, differing] of param's cached bf16 copies against a fresh conversion. */
  bf16CopiesCheck(h: Handle): [number, number];

  relu(x: Handle): Handle;
  reluBackward(gy: Handle, y: Handle): Handle;
  unary(op: string, x: Handle): Handle;
  binary(op: string, a: Handle, b: Handle): Handle;
  scalar(op: string, x: Handle, value: number): Handle;
  axpyInPlace(dst: Handle, src: Handle, alpha: number): void;
  sum(x: Handle, axis: number | null): Handle;
  addBias(x: Handle, b: Handle): Handle;
  dropout(x: Handle, p: number, seed: number): [Handle, Handle];

  /** `inference`: no backward follows, so f32 3×3 stride-1 convolutions may use Winograd. */
  conv2d(x: Handle, w: Handle, b: Handle | null, g: ConvGeometry, o: { relu?: boolean; bf16?: boolean; inference?: boolean }): Handle;
  conv2dBackwardData(gy: Handle, w: Handle, g: ConvGeometry, o: { bf16?: boolean }): Handle;
  conv2dBackwardWeights(gy: Handle, x: Handle, g: ConvGeometry, o: { withBias?: boolean; bf16?: boolean }): [Handle, Handle | null];
  maxPool2d(x: Handle, g: PoolGeometry, o: { training?: boolean }): [Handle, Handle | null];
  maxPool2dBackward(gy: Handle, x: Handle, ws: Handle | null, g: PoolGeometry): Handle;
  adaptiveAvgPool2d(x: Handle, g: AdaptivePoolGeometry): Handle;
  adaptiveAvgPool2dBackward(gy: Handle, g: AdaptivePoolGeometry): Handle;
  lrn(x: Handle, p: LrnParams, o: { training?: boolean }): [Handle, Handle | null];
  lrnBackward(gy: Handle, x: Handle, ws: Handle | null, p: LrnParams): Handle;
  linear(x: Handle, w: Handle, b: Handle | null, g: LinearGeometry, o: { relu?: boolean; bf16?: boolean }): Handle;
  /** Inference with a bf16 (or, with `int8`, an int8) copy of the f32 weights (native/linear_lowp.cpp). */
  linearLowPrecision(x: Handle, w: Handle, b: Handle | null, g: LinearGeometry, o: { relu?: boolean; int8?: boolean }): Handle;
  linearBackwardData(gy: Handle, w: Handle, g: LinearGeometry, o: { bf16?: boolean }): Handle;
  linearBackwardWeights(gy: Handle, x: Handle, g: LinearGeometry, o: { withBias?: boolean; bf16?: boolean }): [Handle, Handle | null];

  logSoftmax(x: Handle, n: number, c: number): Handle;
  logSoftmaxBackward(gy: Handle, y: Handle, n: number, c: number): Handle;
  softmaxCrossEntropy(x: Handle, labels: Int32Array, n: number, c: number): [number, Handle];
  softmaxCrossEntropyBackward(probs: Handle, labels: Int32Array, n: number, c: number, scale: number): Handle;
  sgdStep(p: Handle, g: Handle, m: Handle | null, o: SgdParams & { firstStep: boolean }): void;

  /** Builds an int8 network (its spec checked; weights copied). */
  int8NetCreate(spec: Int8NetSpec): Int8NetHandle;
  /** Runs it on n images (f32 NCHW): the last layer's output (integers as their values). */
  int8NetRun(net: Int8NetHandle, x: Float32Array, n: number): Float32Array;
  /** The same on the libuv thread pool. */
  int8NetRunAsync(net: Int8NetHandle, x: Float32Array, n: number): Promise<Float32Array>;

  setThreads(n: number): void;
  threads(): number;
  info(): NativeInfo;
  setDeferred(on: boolean): void;
  isDeferred(): boolean;
  flushAsync(): Promise<void>;
  /** For tests: submits a task that throws `message` when it runs (a flush failing partway). */
  submitFailingTask(message: string): void;
  matmulGflops(m: number, k: number, n: number, reps: number): number;
  /** GB/s read from a buffer of `mib` MiB on the OpenMP threads (best of `reps`). */
  readBandwidth(mib: number, reps: number): number;
}

/** Repository (package) root. */
export function packageRoot(): string {
  return rootOfPackage();
}

/** Where the addon is loaded from (its build/Release path when it is neither built nor prebuilt). */
export function addonPath(): string {
  return addonFile('alexnet_native') ?? addonCandidates('alexnet_native')[0];
}

/**
 * How idle OpenMP threads wait, unless the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT set):
 * a short spin (20 000 pauses, about half a millisecond) before sleeping, so the many short
 * parallel regions of a forward pass hand over without waking a sleeping thread through the
 * kernel (at batch 1 that costs several milliseconds), while a thread left idle stops burning its
 * core soon (libgomp's own default spins about 15 times longer, which on a busy machine costs
 * 2–10×). Ranks of an MPI job sharing one machine (OMPI_COMM_WORLD_LOCAL_SIZE > 1) sleep at once:
 * a spinning thread would take the core a sibling rank needs.
 */
export function openMpWaitDefaults(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.OMP_WAIT_POLICY !== undefined || env.GOMP_SPINCOUNT !== undefined) return {};
  if (Number(env.OMPI_COMM_WORLD_LOCAL_SIZE ?? '1') > 1) return { OMP_WAIT_POLICY: 'passive' };
  return { GOMP_SPINCOUNT: '20000' };
}

let loaded: { addon: NativeAddon | null; reason: string } | null = null;

/** Loads the addon once; returns it, or null with the reason it is unavailable. */
export function loadAddon(): { addon: NativeAddon | null; reason: string } {
  if (loaded) return loaded;
  Object.assign(process.env, openMpWaitDefaults(process.env));
  const threads = process.env.ALEXNET_NUM_THREADS;
  if (threads && /^[1-9][0-9]*$/.test(threads)) process.env.OMP_NUM_THREADS = threads;
  loaded = loadNativeAddon<NativeAddon>('alexnet_native');
  return loaded;
}

/** The addon if it has been loaded successfully (no load attempt). */
export function loadedAddon(): NativeAddon | null {
  return loaded?.addon ?? null;
}
