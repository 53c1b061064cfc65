// The native backend: every Backend kernel over the oneDNN addon, for float32 storages held in
// native memory (possibly in oneDNN's blocked layouts). Inputs are checked here (owner, dtype,
// element counts against shapes and geometry) before any native call, and the addon checks its
// own arguments again, so bad input is a JS error, never a native crash. float64 storages run on
// the reference backend's kernels through one wrapper (onReference): gradient checks run in
// float64, where speed does not matter.
import type {
  AdaptivePoolGeometry,
  ClassifierPrecision,
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
import { DataError, ShapeError } from '../../errors.js';
import { numel, shapeText as text } from '../../shape.js';
import { RefStorage, RefWorkspace, type ReferenceBackend } from '../reference/index.js';
import { foreignOperand, isFloat64, onReference, type Kernel, type ReferenceCodec } from '../reference_detour.js';
import type { Handle, NativeAddon } from './addon.js';
import { runDeferred } from './async.js';
import { NATIVE, NativeStorage, NativeWorkspace } from './storage.js';

/** The Backend methods that compute (those the float64 detour can forward). */

export class NativeBackend implements Backend {
  readonly name = NATIVE;

  constructor(
    readonly addon: NativeAddon,
    private readonly reference: ReferenceBackend,
    /** 'bf16' computes convolutions and inner products in bf16 (storage and weights stay f32). */
    readonly precision: Precision = 'f32',
    /** What linear layers read their weights as in inference (a cached copy of the f32 weights). */
    readonly classifierPrecision: ClassifierPrecision = 'f32',
  ) {}

  /** Inference off the event loop: native work is queued, then run on the libuv thread pool. */
  runAsync<T>(fn: () => T): Promise<T> {
    return runDeferred(this.addon, fn);
  }

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

  private nativeWs(w: Workspace | null): Handle | null {
    if (!w) return null;
    if (!(w instanceof NativeWorkspace)) throw new Error(`native backend: workspace belongs to the '${w.backend}' backend`);
    return w.handle();
  }

  private get bf16(): boolean {
    return this.precision === 'bf16';
  }

  // ---- float64: the reference kernels ------------------------------------------------------------

  /** True when the operands are float64: the op then runs on the reference kernels. */
  private isF64(...xs: (Storage | null)[]): boolean {
    return isFloat64('native', xs);
  }

  /** How this backend's float64 storages and workspaces map to the reference backend's. */
  private readonly codec: ReferenceCodec = {
    toReference: (a) => {
      if (a instanceof NativeStorage) {
        if (!a.f64) throw new Error('native backend: a float32 operand reached a float64 kernel');
        return a.f64;
      }
      if (a instanceof NativeWorkspace) return a.ref;
      if (a instanceof RefStorage || a instanceof RefWorkspace) throw foreignOperand('native', a);
      return a;
    },
    wrap: (r) => (r instanceof RefStorage ? NativeStorage.ofFloat64(r) : new NativeWorkspace(null, null, r)),
  };

  /** The reference backend's kernel `name` on the reference storages behind float64 operands. */
  private onReference<K extends Kernel>(name: K, ...args: Parameters<Backend[K]>): ReturnType<Backend[K]> {
    return onReference(this.reference, this.codec, name, args);
  }

  /** A float32 storage as a plain reference-backend copy (for the few cases oneDNN cannot do). */
  private plainCopy(s: Storage, shape: Shape): Storage {
    return this.reference.fromArray(this.toArray(s, shape), shape);
  }

  // ---- memory -------------------------------------------------------------------------------------

  fromArray(data: FloatArray, shape: Shape): Storage {
    const size = numel(shape);
    if (data.length !== size) throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${text(shape)} (${size} elements)`);
    if (data instanceof Float64Array) return this.onReference('fromArray', data, shape);
    return this.wrap(this.addon.fromArray(data, [...shape]), size);
  }

  toArray(s: Storage, shape: Shape): FloatArray {
    if (this.isF64(s)) return this.onReference('toArray', s, shape);
    return this.addon.toArray(this.h(s, `tensor of shape ${text(shape)}`, numel(shape)));
  }

  full(shape: Shape, value: number, dtype: DType): Storage {
    if (dtype === 'float64') return this.onReference('full', shape, value, dtype);
    return this.wrap(this.addon.full([...shape], value), numel(shape));
  }

  write(s: Storage, offset: number, values: Float32Array, shape: Shape): void {
    if (this.isF64(s)) return this.onReference('write', s, offset, values, shape);
    const size = numel(shape);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + values.length > size)
      throw new ShapeError(`write: ${values.length} values at offset ${offset} do not fit in ${text(shape)} (${size} elements)`);
    this.addon.writeAt(this.h(s, `write target ${text(shape)}`, size), offset, values);
  }

  readInto(s: Storage, shape: Shape, dst: Float32Array, offset: number): void {
    const size = numel(shape);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > dst.length)
      throw new ShapeError(`readInto: ${text(shape)} (${size} elements) at offset ${offset} does not fit in ${dst.length} elements`);
    if (this.isF64(s)) dst.set(this.toArray(s, shape), offset);
    else this.addon.readInto(this.h(s, `readInto source ${text(shape)}`, size), dst, offset);
  }

  clone(s: Storage, shape: Shape): Storage {
    if (this.isF64(s)) return this.onReference('clone', s, shape);
    return this.wrap(this.addon.clone(this.h(s, `clone input ${text(shape)}`, numel(shape))), numel(shape));
  }

  reshape(s: Storage, from: Shape, to: Shape): Storage {
    if (numel(from) !== numel(to)) throw new ShapeError(`reshape: cannot view ${text(from)} as ${text(to)}`);
    if (this.isF64(s)) return this.onReference('reshape', s, from, to);
    return this.wrap(this.addon.reshape(this.h(s, `reshape input ${text(from)}`, numel(from)), [...to]), numel(to));
  }

  dispose(s: Storage | Workspace): void {
    if (s instanceof NativeStorage || s instanceof NativeWorkspace) s.release(this.addon);
  }

  /** Layout of a float32 storage: 'plain' or 'blocked' (for tests and diagnostics). */
  layoutOf(s: Storage): string {
    return this.addon.layoutOf(this.h(s, 'layout source'));
  }

  /** Test hook: how many cached bf16 copies of a parameter are valid, and how many differ from a fresh conversion. */
  bf16CopiesCheck(s: Storage): { checked: number; differing: number } {
    const [checked, differing] = this.addon.bf16CopiesCheck(this.h(s, 'bf16 copies source'));
    return { checked, differing };
  }

  // ---- elementwise and reductions ---------------------------------------------------------------

  unary(op: UnaryOp, x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('unary', op, x, shape);
    return this.wrap(this.addon.unary(op, this.h(x, `${op} input ${text(shape)}`, numel(shape))), numel(shape));
  }

  binary(op: BinaryOp, a: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(a, b)) return this.onReference('binary', op, a, b, shape);
    const n = numel(shape);
    return this.wrap(this.addon.binary(op, this.h(a, `${op} lhs ${text(shape)}`, n), this.h(b, `${op} rhs ${text(shape)}`, n)), n);
  }

  scalar(op: ScalarOp, x: Storage, value: number, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('scalar', op, x, value, shape);
    return this.wrap(this.addon.scalar(op, this.h(x, `${op} input ${text(shape)}`, numel(shape)), value), numel(shape));
  }

  axpyInPlace(dst: Storage, src: Storage, alpha: number, shape: Shape): void {
    if (this.isF64(dst, src)) return this.onReference('axpyInPlace', dst, src, alpha, shape);
    const n = numel(shape);
    this.addon.axpyInPlace(this.h(dst, `axpy destination ${text(shape)}`, n), this.h(src, `axpy source ${text(shape)}`, n), alpha);
  }

  sum(x: Storage, shape: Shape, axis: number | null): Storage {
    if (this.isF64(x)) return this.onReference('sum', x, shape, axis);
    if (axis !== null && (!Number.isInteger(axis) || axis < 0 || axis >= shape.length)) {
      throw new ShapeError(`sum: axis ${axis} out of range for shape ${text(shape)}`);
    }
    const out = axis === null ? 1 : numel(shape) / (shape[axis] ?? 1);
    if (shape.length === 0 || numel(shape) === 0) {
      // Degenerate shapes: the reference semantics on a plain copy.
      const r = this.reference.sum(this.plainCopy(x, shape), shape, axis);
      return this.fromArray(this.reference.toArray(r, [out]), [out]);
    }
    return this.wrap(this.addon.sum(this.h(x, `sum input ${text(shape)}`, numel(shape)), axis), out);
  }

  addBias(x: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(x, b)) return this.onReference('addBias', x, b, shape);
    const c = shape[1];
    if (shape.length < 2 || c === undefined) throw new ShapeError(`addBias: expected x [N, C, ...], got ${text(shape)}`);
    return this.wrap(
      this.addon.addBias(this.h(x, `addBias input ${text(shape)}`, numel(shape)), this.h(b, `bias [${c}]`, c)),
      numel(shape),
    );
  }

  // ---- activations ----------------------------------------------------------------------------------

  relu(x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('relu', x, shape);
    return this.wrap(this.addon.relu(this.h(x, `relu input ${text(shape)}`, numel(shape))), numel(shape));
  }

  reluBackward(gy: Storage, y: Storage, shape: Shape): Storage {
    if (this.isF64(gy, y)) return this.onReference('reluBackward', gy, y, shape);
    const n = numel(shape);
    return this.wrap(this.addon.reluBackward(this.h(gy, `relu gradient ${text(shape)}`, n), this.h(y, `relu output ${text(shape)}`, n)), n);
  }

  // ---- convolution ------------------------------------------------------------------------------------

  private convSizes(g: ConvGeometry): { x: number; w: number; y: number } {
    return { x: g.n * g.c * g.h * g.w, w: g.oc * (g.c / g.groups) * g.kh * g.kw, y: g.n * g.oc * g.oh * g.ow };
  }

  conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean, training = true): Storage {
    if (this.isF64(x, w, b)) return this.onReference('conv2d', x, w, b, g, relu, training);
    const s = this.convSizes(g);
    const bh = b ? this.h(b, `conv2d bias [${g.oc}]`, g.oc) : null;
    const y = this.addon.conv2d(this.h(x, 'conv2d input', s.x), this.h(w, 'conv2d weight', s.w), bh, g, {
      relu,
      bf16: this.bf16,
      inference: !training,
    });
    return this.wrap(y, s.y);
  }

  conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    if (this.isF64(gy, w)) return this.onReference('conv2dBackwardData', gy, w, g);
    const s = this.convSizes(g);
    const dx = this.addon.conv2dBackwardData(this.h(gy, 'conv2d output gradient', s.y), this.h(w, 'conv2d weight', s.w), g, {
      bf16: this.bf16,
    });
    return this.wrap(dx, s.x);
  }

  conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) return this.onReference('conv2dBackwardWeights', gy, x, g, withBias);
    const s = this.convSizes(g);
    const [gw, gb] = this.addon.conv2dBackwardWeights(this.h(gy, 'conv2d output gradient', s.y), this.h(x, 'conv2d input', s.x), g, {
      withBias,
      bf16: this.bf16,
    });
    return { gw: this.wrap(gw, s.w), gb: gb ? this.wrap(gb, g.oc) : null };
  }

  // ---- pooling -------------------------------------------------------------------------------------------

  maxPool2d(x: Storage, g: PoolGeometry, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) return this.onReference('maxPool2d', x, g, training);
    const [y, ws] = this.addon.maxPool2d(this.h(x, 'max_pool2d input', g.n * g.c * g.h * g.w), g, { training });
    return { y: this.wrap(y, g.n * g.c * g.oh * g.ow), workspace: this.wrapWs(ws) };
  }

  maxPool2dBackward(gy: Storage, x: Storage, workspace: Workspace | null, g: PoolGeometry): Storage {
    if (this.isF64(gy, x)) return this.onReference('maxPool2dBackward', gy, x, workspace, g);
    const dx = this.addon.maxPool2dBackward(
      this.h(gy, 'max_pool2d output gradient', g.n * g.c * g.oh * g.ow),
      this.h(x, 'max_pool2d input', g.n * g.c * g.h * g.w),
      this.nativeWs(workspace),
      g,
    );
    return this.wrap(dx, g.n * g.c * g.h * g.w);
  }

  adaptiveAvgPool2d(x: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(x)) return this.onReference('adaptiveAvgPool2d', x, g);
    const y = this.addon.adaptiveAvgPool2d(this.h(x, 'adaptive_avg_pool2d input', g.n * g.c * g.h * g.w), g);
    return this.wrap(y, g.n * g.c * g.oh * g.ow);
  }

  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(gy)) return this.onReference('adaptiveAvgPool2dBackward', gy, g);
    const dx = this.addon.adaptiveAvgPool2dBackward(this.h(gy, 'adaptive_avg_pool2d output gradient', g.n * g.c * g.oh * g.ow), g);
    return this.wrap(dx, g.n * g.c * g.h * g.w);
  }

  // ---- LRN ------------------------------------------------------------------------------------------------

  lrn(x: Storage, shape: Shape, p: LrnParams, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) return this.onReference('lrn', x, shape, p, training);
    if (shape.length !== 4) throw new ShapeError(`local_response_norm: expected [N, C, H, W], got ${text(shape)}`);
    if (p.size % 2 === 0) {
      // oneDNN centres an even window one channel later than PyTorch: the reference kernel on a plain copy.
      const r = this.reference.lrn(this.plainCopy(x, shape), shape, p, training);
      const workspace = r.workspace ? new NativeWorkspace(null, null, r.workspace) : null;
      return { y: this.fromArray(this.reference.toArray(r.y, shape), shape), workspace };
    }
    const [y, ws] = this.addon.lrn(this.h(x, `lrn input ${text(shape)}`, numel(shape)), p, { training });
    return { y: this.wrap(y, numel(shape)), workspace: this.wrapWs(ws) };
  }

  lrnBackward(gy: Storage, x: Storage, y: Storage, workspace: Workspace | null, shape: Shape, p: LrnParams): Storage {
    if (this.isF64(gy, x, y)) return this.onReference('lrnBackward', gy, x, y, workspace, shape, p);
    const n = numel(shape);
    if (p.size % 2 === 0) {
      const ws = workspace instanceof NativeWorkspace ? workspace.ref : null;
      const dx = this.reference.lrnBackward(this.plainCopy(gy, shape), this.plainCopy(x, shape), this.plainCopy(y, shape), ws, shape, p);
      return this.fromArray(this.reference.toArray(dx, shape), shape);
    }
    const dx = this.addon.lrnBackward(
      this.h(gy, `lrn output gradient ${text(shape)}`, n),
      this.h(x, `lrn input ${text(shape)}`, n),
      this.nativeWs(workspace),
      p,
    );
    return this.wrap(dx, n);
  }

  // ---- fully connected --------------------------------------------------------------------------------------

  linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean, training = true): Storage {
    if (this.isF64(x, w, b)) return this.onReference('linear', x, w, b, g, relu, training);
    const bh = b ? this.h(b, `linear bias [${g.n}]`, g.n) : null;
    const xh = this.h(x, `linear input [${g.m}, ${g.k}]`, g.m * g.k);
    const wh = this.h(w, `linear weight [${g.n}, ${g.k}]`, g.n * g.k);
    const y =
      training || this.classifierPrecision === 'f32'
        ? this.addon.linear(xh, wh, bh, g, { relu, bf16: this.bf16 })
        : this.addon.linearLowPrecision(xh, wh, bh, g, { relu, int8: this.classifierPrecision === 'int8' });
    return this.wrap(y, g.m * g.n);
  }

  linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    if (this.isF64(gy, w)) return this.onReference('linearBackwardData', gy, w, g);
    const dx = this.addon.linearBackwardData(
      this.h(gy, `linear output gradient [${g.m}, ${g.n}]`, g.m * g.n),
      this.h(w, `linear weight [${g.n}, ${g.k}]`, g.n * g.k),
      g,
      { bf16: this.bf16 },
    );
    return this.wrap(dx, g.m * g.k);
  }

  linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) return this.onReference('linearBackwardWeights', gy, x, g, withBias);
    const [gw, gb] = this.addon.linearBackwardWeights(
      this.h(gy, `linear output gradient [${g.m}, ${g.n}]`, g.m * g.n),
      this.h(x, `linear input [${g.m}, ${g.k}]`, g.m * g.k),
      g,
      { withBias, bf16: this.bf16 },
    );
    return { gw: this.wrap(gw, g.n * g.k), gb: gb ? this.wrap(gb, g.n) : null };
  }

  // ---- regularisation -------------------------------------------------------------------------------------------

  dropout(x: Storage, shape: Shape, p: number, seed: number): { y: Storage; mask: Storage } {
    if (this.isF64(x)) return this.onReference('dropout', x, shape, p, seed);
    if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
    if (!Number.isFinite(seed)) throw new Error(`dropout: seed must be a finite number, got ${seed}`);
    const n = numel(shape);
    const [y, mask] = this.addon.dropout(this.h(x, `dropout input ${text(shape)}`, n), p, Math.abs(Math.trunc(seed)) % 2 ** 52);
    return { y: this.wrap(y, n), mask: this.wrap(mask, n) };
  }

  // ---- losses ----------------------------------------------------------------------------------------------------

  private checkLabels(labels: Int32Array, n: number, c: number): void {
    if (labels.length !== n) throw new DataError(`cross_entropy: ${labels.length} labels for a batch of ${n}`);
    labels.forEach((l, i) => {
      if (l < 0 || l >= c) throw new DataError(`cross_entropy: label ${l} at index ${i} is outside [0, ${c})`);
    });
  }

  logSoftmax(x: Storage, n: number, c: number): Storage {
    if (this.isF64(x)) return this.onReference('logSoftmax', x, n, c);
    return this.wrap(this.addon.logSoftmax(this.h(x, `logits [${n}, ${c}]`, n * c), n, c), n * c);
  }

  logSoftmaxBackward(gy: Storage, y: Storage, n: number, c: number): Storage {
    if (this.isF64(gy, y)) return this.onReference('logSoftmaxBackward', gy, y, n, c);
    const dx = this.addon.logSoftmaxBackward(
      this.h(gy, `log_softmax gradient [${n}, ${c}]`, n * c),
      this.h(y, `log_softmax output [${n}, ${c}]`, n * c),
      n,
      c,
    );
    return this.wrap(dx, n * c);
  }

  softmaxCrossEntropy(logits: Storage, labels: Int32Array, n: number, c: number): { loss: number; probs: Storage } {
    if (this.isF64(logits)) return this.onReference('softmaxCrossEntropy', logits, labels, n, c);
    this.checkLabels(labels, n, c);
    const [loss, probs] = this.addon.softmaxCrossEntropy(this.h(logits, `logits [${n}, ${c}]`, n * c), labels, n, c);
    return { loss, probs: this.wrap(probs, n * c) };
  }

  softmaxCrossEntropyBackward(probs: Storage, labels: Int32Array, n: number, c: number, scale: number): Storage {
    if (this.isF64(probs)) return this.onReference('softmaxCrossEntropyBackward', probs, labels, n, c, scale);
    this.checkLabels(labels, n, c);
    const dx = this.addon.softmaxCrossEntropyBackward(this.h(probs, `probabilities [${n}, ${c}]`, n * c), labels, n, c, scale);
    return this.wrap(dx, n * c);
  }

  // ---- optimiser ---------------------------------------------------------------------------------------------------

  sgdStep(param: Storage, grad: Storage, momentumBuffer: Storage | null, size: number, p: SgdParams, firstStep: boolean): void {
    if (this.isF64(param, grad, momentumBuffer)) return this.onReference('sgdStep', param, grad, momentumBuffer, size, p, firstStep);
    if (p.momentum !== 0 && !momentumBuffer) throw new Error('sgdStep: momentum is set but no momentum buffer was given');
    const m = momentumBuffer ? this.h(momentumBuffer, 'momentum buffer', size) : null;
    this.addon.sgdStep(this.h(param, 'parameter', size), this.h(grad, 'gradient', size), m, { ...p, firstStep });
  }
}
