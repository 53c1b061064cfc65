// The one typed Backend interface that every kernel provider implements.
// The ops layer (src/ops) validates shapes, computes geometry with conv_util.ts and records
// autograd; a backend only computes. Storage is opaque: a backend may keep any layout inside
// (oneDNN's blocked formats) and must hand back plain row-major NCHW from `toArray`.

export type DType = 'float32' | 'float64';

/**
 * What convolutions and inner products compute in: float32; bfloat16 with f32 accumulation (the
 * native backend); or f32 arithmetic on weights stored as float16 (the webgpu backend's inference).
 */
export const PRECISIONS = ['f32', 'bf16', 'f16'] as const;
export type Precision = (typeof PRECISIONS)[number];
/**
 * What the weights of linear layers (AlexNet's classifier) are read as in inference: f32, or a
 * bf16 / int8 copy of the f32 weights (convolutions stay in `Precision`; training stays f32).
 */
export const CLASSIFIER_PRECISIONS = ['f32', 'bf16', 'int8'] as const;
export type ClassifierPrecision = (typeof CLASSIFIER_PRECISIONS)[number];
export type FloatArray = Float32Array | Float64Array;
export type { Shape } from '../shape.js';
import type { Shape } from '../shape.js';

/** Backend-owned memory holding the elements of one tensor. */
export interface Storage {
  /** Name of the backend that owns it (mixing backends is an error). */
  readonly backend: string;
  readonly dtype: DType;
  /** Number of logical elements. */
  readonly size: number;
}

/** Backend-owned auxiliary data saved for a backward pass (pool indices, LRN scale, ...). */
export interface Workspace {
  readonly backend: string;
}

/** Convolution geometry, computed once by conv_util.convGeometry. Weight is [oc, c/groups, kh, kw]. */
export interface ConvGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly oc: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly groups: number;
}

/**
 * Pooling geometry, computed once by conv_util.poolGeometry. `padBottom`/`padRight` include the
 * extra padding that ceil mode needs, so kernels never reason about ceil mode themselves.
 */
export interface PoolGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly padBottom: number;
  readonly padRight: number;
}

/** Adaptive average pooling geometry: PyTorch's windows [floor(i*H/OH), ceil((i+1)*H/OH)). */
export interface AdaptivePoolGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly oh: number;
  readonly ow: number;
}

/** Local response normalisation with PyTorch's semantics: alpha is divided by size. */
export interface LrnParams {
  readonly size: number;
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
}

/** Linear geometry: x [m, k] · w[n, k]ᵀ + b[n] = y [m, n]. */
export interface LinearGeometry {
  readonly m: number;
  readonly k: number;
  readonly n: number;
}

/** PyTorch's SGD hyper-parameters for one parameter tensor. */
export interface SgdParams {
  readonly lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'relu' | 'sign';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
export type ScalarOp = 'add' | 'mul' | 'pow' | 'max' | 'min' | 'rsub' | 'rdiv';

export interface Backend {
  readonly name: string;
  /** The precision this backend really computes in (a bf16 request falls back to f32 where the CPU lacks it). */
  readonly precision: Precision;
  /** Backends that can read linear weights in low precision in inference say in which (else f32). */
  readonly classifierPrecision?: ClassifierPrecision;

  /**
   * Runs `fn` (ordinary synchronous tensor work, e.g. an inference forward pass) and resolves
   * with its result once its data is computed. A backend that can computes off the event loop
   * (the native backend queues its kernels and runs them on the thread pool); others run `fn`
   * now and resolve.
   */
  runAsync<T>(fn: () => T): Promise<T>;

  // ---- memory -------------------------------------------------------------------------
  /** Copies `data` (row-major, length = product of shape) into new storage of data's dtype. */
  fromArray(data: FloatArray, shape: Shape): Storage;
  /** Plain row-major copy of the elements (reorders from any internal layout). */
  toArray(s: Storage, shape: Shape): FloatArray;
  /**
   * toArray without blocking the calling thread, for a backend whose data lives elsewhere (the
   * GPU); `Tensor.data()` uses it where it exists, else toArray.
   */
  toArrayAsync?(s: Storage, shape: Shape): Promise<FloatArray>;
  /** New storage filled with `value`. */
  full(shape: Shape, value: number, dtype: DType): Storage;
  /** Copy of `s` in its own memory. */
  clone(s: Storage, shape: Shape): Storage;
  /**
   * Overwrites elements offset … offset + values.length − 1 (row-major) of `s` in place, so that
   * large values can be filled in piece by piece without a second copy of the whole storage.
   */
  write(s: Storage, offset: number, values: Float32Array, shape: Shape): void;
  /**
   * Optional: copies the elements (row-major) into `dst` from `offset` on, without a new array (the
   * distributed gradient buckets: toArray's fresh copy, then a second copy into the bucket, cost
   * a large part of a DDP step). Where absent, callers use toArray.
   */
  readInto?(s: Storage, shape: Shape, dst: Float32Array, offset: number): void;
  /** The same elements in row-major order under another shape; may share memory with `s`. */
  reshape(s: Storage, from: Shape, to: Shape): Storage;
  /** Frees native memory now; using `s` afterwards is an error. No-op where GC owns memory. */
  dispose(s: Storage | Workspace): void;

  // ---- elementwise and reductions (same shape for binary ops) ------------------------
  unary(op: UnaryOp, x: Storage, shape: Shape): Storage;
  binary(op: BinaryOp, a: Storage, b: Storage, shape: Shape): Storage;
  scalar(op: ScalarOp, x: Storage, value: number, shape: Shape): Storage;
  /** dst += alpha * src, in place (gradient accumulation). */
  axpyInPlace(dst: Storage, src: Storage, alpha: number, shape: Shape): void;
  /** Sum over `axis` (keeping no dimension), or over everything when axis is null (shape []). */
  sum(x: Storage, shape: Shape, axis: number | null): Storage;
  /** Adds b[c] to x [n, c, ...rest] along axis 1 (bias broadcast); returns a new storage. */
  addBias(x: Storage, b: Storage, shape: Shape): Storage;

  // ---- activations ---------------------------------------------------------------------
  relu(x: Storage, shape: Shape): Storage;
  /** gx = 0 where y <= 0, else gy (a NaN output passes its gradient, as in PyTorch). */
  reluBackward(gy: Storage, y: Storage, shape: Shape): Storage;

  // ---- convolution (weights [oc, c/groups, kh, kw], optional bias [oc]) ---------------
  /**
   * y = conv(x, w) + b, then ReLU when `relu` is set (fused). `training` (default true) says a
   * backward pass may follow; when false (inference) a backend may pick a faster algorithm whose
   * rounding differs slightly (Winograd for 3×3 convolutions).
   */
  conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean, training?: boolean): Storage;
  conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage;
  conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null };

  // ---- pooling -------------------------------------------------------------------------
  /** Max pooling; returns a workspace for backward when `training` is set (padding is -inf; a window holding NaN gives NaN). */
  maxPool2d(x: Storage, g: PoolGeometry, training: boolean): { y: Storage; workspace: Workspace | null };
  maxPool2dBackward(gy: Storage, x: Storage, workspace: Workspace | null, g: PoolGeometry): Storage;
  adaptiveAvgPool2d(x: Storage, g: AdaptivePoolGeometry): Storage;
  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePoolGeometry): Storage;

  // ---- local response normalisation across channels, x [n, c, h, w] -------------------
  lrn(x: Storage, shape: Shape, p: LrnParams, training: boolean): { y: Storage; workspace: Workspace | null };
  lrnBackward(gy: Storage, x: Storage, y: Storage, workspace: Workspace | null, shape: Shape, p: LrnParams): Storage;

  // ---- fully connected -------------------------------------------------------------------
  /**
   * y [m, n] = x [m, k] · wᵀ (w [n, k]) + b [n], then ReLU when `relu` is set. `training` false
   * (no backward follows) lets a backend read low-precision weights (`classifierPrecision`).
   */
  linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean, training?: boolean): Storage;
  linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage;
  linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null };

  // ---- regularisation ----------------------------------------------------------------------
  /**
   * Inverted dropout: mask holds 0 or 1/(1-p); y = x * mask. The mask is drawn from `seed`
   * (deterministic for a given backend and seed). Backward is binary('mul', gy, mask).
   */
  dropout(x: Storage, shape: Shape, p: number, seed: number): { y: Storage; mask: Storage };

  // ---- losses (logits [n, c]) ----------------------------------------------------------------
  logSoftmax(x: Storage, n: number, c: number): Storage;
  /** gx = gy - exp(y) * sum_j gy[:, j], with y the log-softmax output. */
  logSoftmaxBackward(gy: Storage, y: Storage, n: number, c: number): Storage;
  /** Mean cross-entropy over the batch; `probs` is softmax(logits), kept for backward. */
  softmaxCrossEntropy(logits: Storage, labels: Int32Array, n: number, c: number): { loss: number; probs: Storage };
  /** gx = (probs - onehot(labels)) * scale / n. */
  softmaxCrossEntropyBackward(probs: Storage, labels: Int32Array, n: number, c: number, scale: number): Storage;

  // ---- optimiser -----------------------------------------------------------------------------
  /**
   * One in-place SGD step with PyTorch's rule. `momentumBuffer` is null when momentum is 0;
   * `firstStep` tells that the buffer is uninitialised (it is then set to the gradient).
   */
  sgdStep(param: Storage, grad: Storage, momentumBuffer: Storage | null, size: number, p: SgdParams, firstStep: boolean): void;
}
