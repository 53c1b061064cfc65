// The native backend: every Backend kernel over the oneDNN addon, for float32 storages held in
// native memory (possibly in oneDNN's blocked layouts). Inputs are validated here (owner, dtype,
// element counts against shapes and geometry) before any native call, so bad input is a JS error,
// never a native crash. float64 storages are delegated to the reference backend's kernels
// (gradient checks run in float64; speed only matters in f32/bf16).
import type {
  AdaptivePoolGeometry,
  Precision,
  Backend,
  BinaryOp,
  ConvGeometry,
  DType,
  FloatArray,
  LinearGeometry,
  LrnParams,
  PoolGeometry,
  ScalarOp,
  SgdParams,
  Shape,
  Storage,
  UnaryOp,
  Workspace,
} from '../backend.js';
import { numel, shapeText as text } from '../../shape.js';
import type { ReferenceBackend } from '../reference/index.js';
import type { Handle, NativeAddon } from './addon.js';
import { NATIVE, NativeStorage, NativeWorkspace } from './storage.js';
import { DEFAULT_PRECISION_TABLE, type PrecisionTable } from './precision.js';

function convArray(g: ConvGeometry): number[] {
  return [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.groups];
}

function poolArray(g: PoolGeometry): number[] {
  return [g.n, g.c, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.padBottom, g.padRight];
}

function lrnArray(p: LrnParams): number[] {
  return [p.size, p.alpha, p.beta, p.k];
}

export class NativeBackend implements Backend {
  readonly name = NATIVE;

  constructor(
    readonly addon: NativeAddon,
    private readonly reference: ReferenceBackend,
    /** 'bf16' computes convolutions and inner products in bf16 (per-layer table in precision.ts). */
    readonly precision: Precision = 'f32',
    /** Which layers and passes compute in bf16 when precision is 'bf16' (measured per layer). */
    private readonly table: PrecisionTable = DEFAULT_PRECISION_TABLE,
  ) {}

  // ---- checked casts ---------------------------------------------------------------------------

  private native(s: Storage, what: string, size?: number): NativeStorage {
    if (!(s instanceof NativeStorage)) {
      throw new Error(`native backend: ${what} is stored on the '${s.backend}' backend; move it to the native backend first`);
    }
    if (size !== undefined && s.size !== size) {
      throw new Error(`native backend: ${what} holds ${s.size} elements, expected ${size}`);
    }
    return s;
  }

  private h(s: Storage, what: string, size?: number): Handle {
    return this.native(s, what, size).handle(what);
  }

  private wrap(h: Handle, size: number): NativeStorage {
    return NativeStorage.of(this.addon, h, size);
  }

  private wrapWs(h: Handle | null): NativeWorkspace | null {
    return h ? new NativeWorkspace(this.addon, h, null) : null;
  }

  /** True when the (first) operand is float64: the op then runs on the reference kernels. */
  private isF64(...xs: (Storage | null)[]): boolean {
    const first = xs.find((x): x is Storage => x !== null);
    if (!first) return false;
    for (const x of xs) {
      if (x && x.dtype !== first.dtype) throw new Error(`native backend: operands mix ${first.dtype} and ${x.dtype}`);
    }
    return first.dtype === 'float64';
  }

  private ref(s: Storage, what: string): Storage {
    const n = this.native(s, what);
    if (!n.f64) throw new Error(`native backend: ${what} is not float64`);
    return n.f64;
  }

  private refOrNull(s: Storage | null, what: string): Storage | null {
    return s ? this.ref(s, what) : null;
  }

  private refWs(w: Workspace | null): Workspace | null {
    if (!w) return null;
    if (!(w instanceof NativeWorkspace)) throw new Error(`native backend: workspace belongs to the '${w.backend}' backend`);
    return w.ref;
  }

  private nativeWs(w: Workspace | null): Handle | null {
    if (!w) return null;
    if (!(w instanceof NativeWorkspace)) throw new Error(`native backend: workspace belongs to the '${w.backend}' backend`);
    return w.handle();
  }

  private f64(s: Storage): NativeStorage {
    return NativeStorage.ofFloat64(s);
  }

  /** Wraps a reference-backend workspace (float64 work, even-size LRN). */
  private f64Ws(w: Workspace | null): NativeWorkspace | null {
    return w ? new NativeWorkspace(null, null, w) : null;
  }

  private bf16(): boolean {
    return this.precision === 'bf16';
  }

  // ---- memory -------------------------------------------------------------------------------------

  fromArray(data: FloatArray, shape: Shape): Storage {
    const size = numel(shape);
    if (data.length !== size) throw new Error(`fromArray: ${data.length} values do not fill shape ${text(shape)} (${size} elements)`);
    if (data instanceof Float64Array) return this.f64(this.reference.fromArray(data, shape));
    return this.wrap(this.addon.fromArray(data, [...shape]), size);
  }

  toArray(s: Storage, shape: Shape): FloatArray {
    if (this.isF64(s)) return this.reference.toArray(this.ref(s, 'toArray source'), shape);
    return this.addon.toArray(this.h(s, `tensor of shape ${text(shape)}`, numel(shape)));
  }

  full(shape: Shape, value: number, dtype: DType): Storage {
    if (dtype === 'float64') return this.f64(this.reference.full(shape, value, dtype));
    return this.wrap(this.addon.full([...shape], value), numel(shape));
  }

  clone(s: Storage, shape: Shape): Storage {
    if (this.isF64(s)) return this.f64(this.reference.clone(this.ref(s, 'clone input'), shape));
    return this.wrap(this.addon.clone(this.h(s, `clone input ${text(shape)}`, numel(shape))), numel(shape));
  }

  reshape(s: Storage, from: Shape, to: Shape): Storage {
    if (numel(from) !== numel(to)) throw new Error(`reshape: cannot view ${text(from)} as ${text(to)}`);
    if (this.isF64(s)) return this.f64(this.reference.reshape(this.ref(s, 'reshape input'), from, to));
    return this.wrap(this.addon.reshape(this.h(s, `reshape input ${text(from)}`, numel(from)), [...to]), numel(to));
  }

  dispose(s: Storage | Workspace): void {
    if (s instanceof NativeStorage || s instanceof NativeWorkspace) s.release(this.addon);
  }

  /** Layout of a float32 storage: 'plain' or 'blocked' (for tests and diagnostics). */
  layoutOf(s: Storage): string {
    return this.addon.layoutOf(this.h(s, 'layout source'));
  }

  // ---- elementwise and reductions ---------------------------------------------------------------

  unary(op: UnaryOp, x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.f64(this.reference.unary(op, this.ref(x, 'unary input'), shape));
    return this.wrap(this.addon.unary(op, this.h(x, `${op} input ${text(shape)}`, numel(shape))), numel(shape));
  }

  binary(op: BinaryOp, a: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(a, b)) return this.f64(this.reference.binary(op, this.ref(a, 'lhs'), this.ref(b, 'rhs'), shape));
    const n = numel(shape);
    return this.wrap(this.addon.binary(op, this.h(a, `${op} lhs ${text(shape)}`, n), this.h(b, `${op} rhs ${text(shape)}`, n)), n);
  }

  scalar(op: ScalarOp, x: Storage, value: number, shape: Shape): Storage {
    if (this.isF64(x)) return this.f64(this.reference.scalar(op, this.ref(x, 'scalar input'), value, shape));
    return this.wrap(this.addon.scalar(op, this.h(x, `${op} input ${text(shape)}`, numel(shape)), value), numel(shape));
  }

  axpyInPlace(dst: Storage, src: Storage, alpha: number, shape: Shape): void {
    if (this.isF64(dst, src)) {
      this.reference.axpyInPlace(this.ref(dst, 'axpy destination'), this.ref(src, 'axpy source'), alpha, shape);
      return;
    }
    const n = numel(shape);
    this.addon.axpyInPlace(this.h(dst, `axpy destination ${text(shape)}`, n), this.h(src, `axpy source ${text(shape)}`, n), alpha);
  }

  sum(x: Storage, shape: Shape, axis: number | null): Storage {
    if (this.isF64(x)) return this.f64(this.reference.sum(this.ref(x, 'sum input'), shape, axis));
    if (axis !== null && (!Number.isInteger(axis) || axis < 0 || axis >= shape.length)) {
      throw new Error(`sum: axis ${axis} out of range for shape ${text(shape)}`);
    }
    const out = axis === null ? 1 : numel(shape) / shape[axis];
    if (shape.length === 0 || numel(shape) === 0) {
      // Degenerate shapes: the reference semantics on a plain copy.
      const plain = this.reference.fromArray(this.toArray(x, shape), shape);
      return this.fromArray(this.reference.toArray(this.reference.sum(plain, shape, axis), [out]), [out]);
    }
    return this.wrap(this.addon.sum(this.h(x, `sum input ${text(shape)}`, numel(shape)), axis), out);
  }

  addBias(x: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(x, b)) return this.f64(this.reference.addBias(this.ref(x, 'addBias input'), this.ref(b, 'bias'), shape));
    if (shape.length < 2) throw new Error(`addBias: expected x [N, C, ...], got ${text(shape)}`);
    return this.wrap(
      this.addon.addBias(this.h(x, `addBias input ${text(shape)}`, numel(shape)), this.h(b, `bias [${shape[1]}]`, shape[1])),
      numel(shape),
    );
  }

  // ---- activations ----------------------------------------------------------------------------------

  relu(x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.f64(this.reference.relu(this.ref(x, 'relu input'), shape));
    return this.wrap(this.addon.relu(this.h(x, `relu input ${text(shape)}`, numel(shape))), numel(shape));
  }

  reluBackward(gy: Storage, y: Storage, shape: Shape): Storage {
    if (this.isF64(gy, y)) return this.f64(this.reference.reluBackward(this.ref(gy, 'gy'), this.ref(y, 'y'), shape));
    const n = numel(shape);
    return this.wrap(this.addon.reluBackward(this.h(gy, `relu gradient ${text(shape)}`, n), this.h(y, `relu output ${text(shape)}`, n)), n);
  }

  // ---- convolution ------------------------------------------------------------------------------------

  private convSizes(g: ConvGeometry): { x: number; w: number; y: number } {
    return { x: g.n * g.c * g.h * g.w, w: g.oc * (g.c / g.groups) * g.kh * g.kw, y: g.n * g.oc * g.oh * g.ow };
  }

  conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean, training = true): Storage {
    if (this.isF64(x, w, b)) {
      return this.f64(
        this.reference.conv2d(this.ref(x, 'conv2d input'), this.ref(w, 'conv2d weight'), this.refOrNull(b, 'conv2d bias'), g, relu),
      );
    }
    const s = this.convSizes(g);
    const bh = b ? this.h(b, `conv2d bias [${g.oc}]`, g.oc) : null;
    const y = this.addon.conv2d(
      this.h(x, 'conv2d input', s.x),
      this.h(w, 'conv2d weight', s.w),
      bh,
      convArray(g),
      relu,
      this.bf16() && this.table.conv(g, 'forward'),
      !training,
    );
    return this.wrap(y, s.y);
  }

  conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    if (this.isF64(gy, w)) return this.f64(this.reference.conv2dBackwardData(this.ref(gy, 'gy'), this.ref(w, 'w'), g));
    const s = this.convSizes(g);
    const dx = this.addon.conv2dBackwardData(
      this.h(gy, 'conv2d output gradient', s.y),
      this.h(w, 'conv2d weight', s.w),
      convArray(g),
      this.bf16() && this.table.conv(g, 'backwardData'),
    );
    return this.wrap(dx, s.x);
  }

  conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) {
      const r = this.reference.conv2dBackwardWeights(this.ref(gy, 'gy'), this.ref(x, 'x'), g, withBias);
      return { gw: this.f64(r.gw), gb: r.gb ? this.f64(r.gb) : null };
    }
    const s = this.convSizes(g);
    const [gw, gb] = this.addon.conv2dBackwardWeights(
      this.h(gy, 'conv2d output gradient', s.y),
      this.h(x, 'conv2d input', s.x),
      convArray(g),
      withBias,
      this.bf16() && this.table.conv(g, 'backwardWeights'),
    );
    return { gw: this.wrap(gw, s.w), gb: gb ? this.wrap(gb, g.oc) : null };
  }

  // ---- pooling -------------------------------------------------------------------------------------------

  maxPool2d(x: Storage, g: PoolGeometry, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) {
      const r = this.reference.maxPool2d(this.ref(x, 'max_pool2d input'), g, training);
      return { y: this.f64(r.y), workspace: this.f64Ws(r.workspace) };
    }
    const [y, ws] = this.addon.maxPool2d(this.h(x, 'max_pool2d input', g.n * g.c * g.h * g.w), poolArray(g), training);
    return { y: this.wrap(y, g.n * g.c * g.oh * g.ow), workspace: this.wrapWs(ws) };
  }

  maxPool2dBackward(gy: Storage, x: Storage, workspace: Workspace | null, g: PoolGeometry): Storage {
    if (this.isF64(gy, x))
      return this.f64(this.reference.maxPool2dBackward(this.ref(gy, 'gy'), this.ref(x, 'x'), this.refWs(workspace), g));
    const dx = this.addon.maxPool2dBackward(
      this.h(gy, 'max_pool2d output gradient', g.n * g.c * g.oh * g.ow),
      this.h(x, 'max_pool2d input', g.n * g.c * g.h * g.w),
      this.nativeWs(workspace),
      poolArray(g),
    );
    return this.wrap(dx, g.n * g.c * g.h * g.w);
  }

  adaptiveAvgPool2d(x: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(x)) return this.f64(this.reference.adaptiveAvgPool2d(this.ref(x, 'input'), g));
    const y = this.addon.adaptiveAvgPool2d(this.h(x, 'adaptive_avg_pool2d input', g.n * g.c * g.h * g.w), [g.n, g.c, g.h, g.w, g.oh, g.ow]);
    return this.wrap(y, g.n * g.c * g.oh * g.ow);
  }

  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(gy)) return this.f64(this.reference.adaptiveAvgPool2dBackward(this.ref(gy, 'gy'), g));
    const dx = this.addon.adaptiveAvgPool2dBackward(this.h(gy, 'adaptive_avg_pool2d output gradient', g.n * g.c * g.oh * g.ow), [
      g.n,
      g.c,
      g.h,
      g.w,
      g.oh,
      g.ow,
    ]);
    return this.wrap(dx, g.n * g.c * g.h * g.w);
  }

  // ---- LRN ------------------------------------------------------------------------------------------------

  lrn(x: Storage, shape: Shape, p: LrnParams, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) {
      const r = this.reference.lrn(this.ref(x, 'lrn input'), shape, p, training);
      return { y: this.f64(r.y), workspace: this.f64Ws(r.workspace) };
    }
    if (shape.length !== 4) throw new Error(`local_response_norm: expected [N, C, H, W], got ${text(shape)}`);
    if (p.size % 2 === 0) {
      // oneDNN centres an even window one channel later than PyTorch: run the reference kernel on a plain copy.
      const r = this.reference.lrn(this.reference.fromArray(this.toArray(x, shape), shape), shape, p, training);
      return { y: this.fromArray(this.reference.toArray(r.y, shape), shape), workspace: this.f64Ws(r.workspace) };
    }
    const [y, ws] = this.addon.lrn(this.h(x, `lrn input ${text(shape)}`, numel(shape)), lrnArray(p), training);
    return { y: this.wrap(y, numel(shape)), workspace: this.wrapWs(ws) };
  }

  lrnBackward(gy: Storage, x: Storage, y: Storage, workspace: Workspace | null, shape: Shape, p: LrnParams): Storage {
    if (this.isF64(gy, x, y)) {
      return this.f64(this.reference.lrnBackward(this.ref(gy, 'gy'), this.ref(x, 'x'), this.ref(y, 'y'), this.refWs(workspace), shape, p));
    }
    const n = numel(shape);
    if (p.size % 2 === 0) {
      const plain = (s: Storage) => this.reference.fromArray(this.toArray(s, shape), shape);
      const dxr = this.reference.lrnBackward(plain(gy), plain(x), plain(y), this.refWs(workspace), shape, p);
      return this.fromArray(this.reference.toArray(dxr, shape), shape);
    }
    const dx = this.addon.lrnBackward(
      this.h(gy, `lrn output gradient ${text(shape)}`, n),
      this.h(x, `lrn input ${text(shape)}`, n),
      this.nativeWs(workspace),
      lrnArray(p),
    );
    return this.wrap(dx, n);
  }

  // ---- fully connected --------------------------------------------------------------------------------------

  linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean): Storage {
    if (this.isF64(x, w, b)) {
      return this.f64(
        this.reference.linear(this.ref(x, 'linear input'), this.ref(w, 'linear weight'), this.refOrNull(b, 'linear bias'), g, relu),
      );
    }
    const bh = b ? this.h(b, `linear bias [${g.n}]`, g.n) : null;
    const y = this.addon.linear(
      this.h(x, `linear input [${g.m}, ${g.k}]`, g.m * g.k),
      this.h(w, `linear weight [${g.n}, ${g.k}]`, g.n * g.k),
      bh,
      [g.m, g.k, g.n],
      relu,
      this.bf16() && this.table.linear(g, 'forward'),
    );
    return this.wrap(y, g.m * g.n);
  }

  linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    if (this.isF64(gy, w)) return this.f64(this.reference.linearBackwardData(this.ref(gy, 'gy'), this.ref(w, 'w'), g));
    const dx = this.addon.linearBackwardData(
      this.h(gy, `linear output gradient [${g.m}, ${g.n}]`, g.m * g.n),
      this.h(w, `linear weight [${g.n}, ${g.k}]`, g.n * g.k),
      [g.m, g.k, g.n],
      this.bf16() && this.table.linear(g, 'backwardData'),
    );
    return this.wrap(dx, g.m * g.k);
  }

  linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) {
      const r = this.reference.linearBackwardWeights(this.ref(gy, 'gy'), this.ref(x, 'x'), g, withBias);
      return { gw: this.f64(r.gw), gb: r.gb ? this.f64(r.gb) : null };
    }
    const [gw, gb] = this.addon.linearBackwardWeights(
      this.h(gy, `linear output gradient [${g.m}, ${g.n}]`, g.m * g.n),
      this.h(x, `linear input [${g.m}, ${g.k}]`, g.m * g.k),
      [g.m, g.k, g.n],
      withBias,
      this.bf16() && this.table.linear(g, 'backwardWeights'),
    );
    return { gw: this.wrap(gw, g.n * g.k), gb: gb ? this.wrap(gb, g.n) : null };
  }

  // ---- regularisation -------------------------------------------------------------------------------------------

  dropout(x: Storage, shape: Shape, p: number, seed: number): { y: Storage; mask: Storage } {
    if (this.isF64(x)) {
      const r = this.reference.dropout(this.ref(x, 'dropout input'), shape, p, seed);
      return { y: this.f64(r.y), mask: this.f64(r.mask) };
    }
    if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
    if (!Number.isFinite(seed)) throw new Error(`dropout: seed must be a finite number, got ${seed}`);
    const n = numel(shape);
    const [y, mask] = this.addon.dropout(this.h(x, `dropout input ${text(shape)}`, n), p, Math.abs(Math.trunc(seed)) % 2 ** 52);
    return { y: this.wrap(y, n), mask: this.wrap(mask, n) };
  }

  // ---- losses ----------------------------------------------------------------------------------------------------

  private checkLabels(labels: Int32Array, n: number, c: number): void {
    if (labels.length !== n) throw new Error(`cross_entropy: ${labels.length} labels for a batch of ${n}`);
    for (let i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= c) throw new Error(`cross_entropy: label ${labels[i]} at index ${i} is outside [0, ${c})`);
    }
  }

  logSoftmax(x: Storage, n: number, c: number): Storage {
    if (this.isF64(x)) return this.f64(this.reference.logSoftmax(this.ref(x, 'logits'), n, c));
    return this.wrap(this.addon.logSoftmax(this.h(x, `logits [${n}, ${c}]`, n * c), n, c), n * c);
  }

  logSoftmaxBackward(gy: Storage, y: Storage, n: number, c: number): Storage {
    if (this.isF64(gy, y)) return this.f64(this.reference.logSoftmaxBackward(this.ref(gy, 'gy'), this.ref(y, 'y'), n, c));
    return this.wrap(
      this.addon.logSoftmaxBackward(
        this.h(gy, `log_softmax gradient [${n}, ${c}]`, n * c),
        this.h(y, `log_softmax output [${n}, ${c}]`, n * c),
        n,
        c,
      ),
      n * c,
    );
  }

  softmaxCrossEntropy(logits: Storage, labels: Int32Array, n: number, c: number): { loss: number; probs: Storage } {
    if (this.isF64(logits)) {
      const r = this.reference.softmaxCrossEntropy(this.ref(logits, 'logits'), labels, n, c);
      return { loss: r.loss, probs: this.f64(r.probs) };
    }
    this.checkLabels(labels, n, c);
    const [loss, probs] = this.addon.softmaxCrossEntropy(this.h(logits, `logits [${n}, ${c}]`, n * c), labels, n, c);
    return { loss, probs: this.wrap(probs, n * c) };
  }

  softmaxCrossEntropyBackward(probs: Storage, labels: Int32Array, n: number, c: number, scale: number): Storage {
    if (this.isF64(probs)) return this.f64(this.reference.softmaxCrossEntropyBackward(this.ref(probs, 'probs'), labels, n, c, scale));
    this.checkLabels(labels, n, c);
    return this.wrap(
      this.addon.softmaxCrossEntropyBackward(this.h(probs, `probabilities [${n}, ${c}]`, n * c), labels, n, c, scale),
      n * c,
    );
  }

  // ---- optimiser ---------------------------------------------------------------------------------------------------

  sgdStep(param: Storage, grad: Storage, momentumBuffer: Storage | null, size: number, p: SgdParams, firstStep: boolean): void {
    if (this.isF64(param, grad, momentumBuffer)) {
      this.reference.sgdStep(
        this.ref(param, 'param'),
        this.ref(grad, 'grad'),
        this.refOrNull(momentumBuffer, 'momentum buffer'),
        size,
        p,
        firstStep,
      );
      return;
    }
    if (p.momentum !== 0 && !momentumBuffer) throw new Error('sgdStep: momentum is set but no momentum buffer was given');
    const m = momentumBuffer ? this.h(momentumBuffer, 'momentum buffer', size) : null;
    this.addon.sgdStep(
      this.h(param, 'parameter', size),
      this.h(grad, 'gradient', size),
      m,
      p.lr,
      p.momentum,
      p.dampening,
      p.weightDecay,
      p.nesterov,
      firstStep,
    );
  }
}
