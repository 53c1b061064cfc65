// The webgpu backend's client: every Backend kernel as commands to the GPU worker. Arguments are
// checked here (owner, dtype, element counts, geometry: the wasm backend's checks), output ids
// are chosen here, and the commands are queued without a round trip; tensors stay on the GPU.
// Only toArray and the cross-entropy loss wait for the GPU (toArrayAsync and runAsync do not
// block). float64 storages run on the reference backend's kernels (reference_detour.ts).
// Precision 'f16' stores the weights of convolutions and linear layers as f16 for their forward
// passes (half the bytes each reads; arithmetic, activations and the f32 master weights unchanged):
// each weight's f16 copy is made on the GPU on first use and remade after the weight changes.
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
import { DataError, DeviceError, ShapeError, UsageError } from '../../errors.js';
import { numel, shapeText as text } from '../../shape.js';
import { RefStorage, RefWorkspace, type ReferenceBackend } from '../reference/index.js';
import { foreignOperand, isFloat64, onReference, type Kernel, type ReferenceCodec } from '../reference_detour.js';
import { checkAdaptive, checkConv, checkLinear, checkLrn, checkPool, checkRows } from './checks.js';
import type { Channel } from './channel.js';
import { opCode } from './kernels/elementwise.js';
import type { KernelName } from './kernels/index.js';
import { f16Bytes } from './kernels/f16.js';
import { FEATURES, FEATURE_SHADER_F16, LIMIT_MAX_BINDING, LIMIT_MAX_BUFFER } from './protocol.js';
import { GpuStorage, GpuWorkspace, Handle, WEBGPU } from './storage.js';

type Id = number | null;

/** What the webgpu backend computes in: f32, or f32 with the matrix kernels' weights stored as f16. */
export type WebGpuPrecision = Extract<Precision, 'f32' | 'f16'>;
export const WEBGPU_PRECISIONS: readonly WebGpuPrecision[] = ['f32', 'f16'];

export class WebGpuBackend implements Backend {
  readonly name = WEBGPU;
  /** The largest buffer a kernel may bind (bytes): the device's limits, known at start. */
  readonly maxBufferBytes: number;
  /**
   * How f16 weights are read: 'native' (array<f16>: the device has `shader-f16`) or 'packed' (two
   * halves per u32 word through unpack2x16float: core WGSL, every adapter); null under f32.
   */
  readonly f16Weights: 'native' | 'packed' | null;
  private nextId = 1;
  private live = 0;

  constructor(
    private readonly channel: Channel,
    private readonly reference: ReferenceBackend,
    readonly precision: WebGpuPrecision = 'f32',
  ) {
    const limits = new Float64Array(channel.status);
    this.maxBufferBytes = Math.min(limits[LIMIT_MAX_BUFFER]!, limits[LIMIT_MAX_BINDING]!);
    const native = (Atomics.load(new Int32Array(channel.status), FEATURES) & FEATURE_SHADER_F16) !== 0;
    this.f16Weights = precision === 'f16' ? (native ? 'native' : 'packed') : null;
  }

  /** True once the device, or the worker, failed: every later call throws. */
  get failed(): boolean {
    return this.channel.failed();
  }

  /** GPU buffers allocated and not yet freed (a test hook: dispose and garbage collection free them). */
  get liveBuffers(): number {
    return this.live;
  }

  /** Reads of tensor data from the GPU so far (a test hook: nothing is read unless asked). */
  get reads(): number {
    return this.channel.reads;
  }

  /** Runs `fn` now and resolves once the GPU has finished its work, without blocking. */
  async runAsync<T>(fn: () => T): Promise<T> {
    const result = fn();
    await this.channel.fence();
    return result;
  }

  /** A test hook: the worker destroys its device (as a lost device), stops answering, or exits. */
  debugFail(what: 'destroy-device' | 'hang' | 'exit'): void {
    this.channel.send({ op: 'debug', what });
    this.channel.flush();
  }

  /** Stops the worker; later calls throw. */
  close(): void {
    this.channel.fail('the webgpu backend was closed');
  }

  // ---- storages and commands ---------------------------------------------------------------

  private cast(s: Storage, what: string, size?: number): GpuStorage {
    if (!(s instanceof GpuStorage)) {
      throw new Error(`webgpu backend: ${what} is stored on the '${s.backend}' backend; move it to the webgpu backend first`);
    }
    if (s.owner !== null && s.owner !== this) throw new Error(`webgpu backend: ${what} belongs to another webgpu backend instance`);
    if (size !== undefined && s.size !== size) throw new Error(`webgpu backend: ${what} holds ${s.size} elements, expected ${size}`);
    return s;
  }

  /** The buffer id of a float32 storage of `size` elements. */
  private id(s: Storage, what: string, size: number): number {
    return this.cast(s, what, size).id(what);
  }

  /** A new buffer of `elements` 4-byte values (zeros, or `data`); `what` names it in errors. */
  private newBuffer(elements: number, what: string, data?: ArrayBuffer): Handle {
    return this.newBytes(elements * 4, what, data);
  }

  private newBytes(bytes: number, what: string, data?: ArrayBuffer): Handle {
    this.channel.check();
    if (bytes > this.maxBufferBytes)
      throw new DeviceError(
        `out of GPU memory allocating ${what}: ${bytes} bytes are more than this GPU's largest buffer (${this.maxBufferBytes} bytes: maxBufferSize / maxStorageBufferBindingSize)`,
      );
    const id = this.nextId++;
    this.channel.send({ op: 'alloc', id, bytes, what, data }, data);
    this.live++;
    return new Handle(id, (freed) => {
      this.live--;
      this.channel.send({ op: 'free', id: freed });
    });
  }

  /**
   * The buffer id a matrix kernel reads as its weights: the storage's own (f32), or under
   * precision 'f16' its f16 copy, made now when there is none (the copy lives as long as the
   * buffer, and is dropped when the values change in place).
   */
  private weightId(s: Storage, what: string, size: number): number {
    const handle = this.cast(s, what, size).handle(what);
    if (this.precision !== 'f16') return handle.id;
    if (!handle.f16) {
      handle.f16 = this.newBytes(f16Bytes(size), `${what} (f16 copy)`);
      this.run('packF16', [handle.id, handle.f16.id], { n: size });
    }
    return handle.f16.id;
  }

  /** The buffer id of a storage about to be changed in place (its f16 copy, if any, is dropped). */
  private changedId(s: Storage, what: string, size: number): number {
    const handle = this.cast(s, what, size).handle(what);
    handle.changed();
    return handle.id;
  }

  private alloc(size: number, what: string): GpuStorage {
    return GpuStorage.of(this.newBuffer(size, what), size, this);
  }

  private run(kernel: KernelName, ids: Id[], params: Record<string, number>): void {
    this.channel.check();
    this.channel.send({ op: 'run', kernel, ids, params });
  }

  /** Frees a temporary storage or workspace once the commands queued before have used it. */
  private drop(s: GpuStorage | GpuWorkspace): void {
    s.release();
  }

  // ---- float64: the reference kernels ---------------------------------------------------------

  private isF64(...xs: (Storage | null)[]): boolean {
    return isFloat64('webgpu', xs);
  }

  private readonly codec: ReferenceCodec = {
    toReference: (a) => {
      if (a instanceof GpuStorage) {
        if (!a.f64) throw new Error('webgpu backend: a float32 operand reached a float64 kernel');
        return a.f64;
      }
      if (a instanceof GpuWorkspace) return a.ref;
      if (a instanceof RefStorage || a instanceof RefWorkspace) throw foreignOperand('webgpu', a);
      return a;
    },
    wrap: (r) => (r instanceof RefStorage ? GpuStorage.ofFloat64(r) : new GpuWorkspace(r.kind, null, 0, r, null)),
  };

  private onReference<K extends Kernel>(name: K, ...args: Parameters<Backend[K]>): ReturnType<Backend[K]> {
    return onReference(this.reference, this.codec, name, args);
  }

  // ---- memory -----------------------------------------------------------------------------------

  fromArray(data: FloatArray, shape: Shape): Storage {
    const size = numel(shape);
    if (data.length !== size) throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${text(shape)} (${size} elements)`);
    if (data instanceof Float64Array) return this.onReference('fromArray', data, shape);
    // A copy: the caller keeps its array, the copy is handed over to the worker.
    const copy = data.slice().buffer as ArrayBuffer;
    return GpuStorage.of(this.newBuffer(size, `tensor ${text(shape)}`, copy), size, this);
  }

  toArray(s: Storage, shape: Shape): FloatArray {
    if (this.isF64(s)) return this.onReference('toArray', s, shape);
    const size = numel(shape);
    return new Float32Array(this.channel.readSync(this.id(s, `tensor ${text(shape)}`, size), size * 4));
  }

  /** toArray without blocking (what `await tensor.data()` uses). */
  async toArrayAsync(s: Storage, shape: Shape): Promise<FloatArray> {
    if (this.isF64(s)) return this.onReference('toArray', s, shape);
    const size = numel(shape);
    return new Float32Array(await this.channel.read(this.id(s, `tensor ${text(shape)}`, size), size * 4));
  }

  full(shape: Shape, value: number, dtype: DType): Storage {
    if (dtype === 'float64') return this.onReference('full', shape, value, dtype);
    const n = numel(shape);
    const y = this.alloc(n, `tensor ${text(shape)}`);
    if (value !== 0 || Object.is(value, -0)) this.run('fill', [y.id('full')], { n, value });
    return y;
  }

  clone(s: Storage, shape: Shape): Storage {
    if (this.isF64(s)) return this.onReference('clone', s, shape);
    const n = numel(shape);
    const from = this.id(s, `clone input ${text(shape)}`, n);
    const y = this.alloc(n, `clone ${text(shape)}`);
    this.channel.send({ op: 'copy', from, to: y.id('clone'), bytes: n * 4 });
    return y;
  }

  write(s: Storage, offset: number, values: Float32Array, shape: Shape): void {
    if (this.isF64(s)) return this.onReference('write', s, offset, values, shape);
    const size = numel(shape);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + values.length > size)
      throw new ShapeError(`write: ${values.length} values at offset ${offset} do not fit in ${text(shape)} (${size} elements)`);
    const id = this.changedId(s, `write target ${text(shape)}`, size);
    this.channel.check();
    this.channel.send({ op: 'write', id, offset: offset * 4, data: values.slice().buffer as ArrayBuffer }, undefined);
  }

  reshape(s: Storage, from: Shape, to: Shape): Storage {
    if (numel(from) !== numel(to)) throw new ShapeError(`reshape: cannot view ${text(from)} as ${text(to)}`);
    if (this.isF64(s)) return this.onReference('reshape', s, from, to);
    return this.cast(s, `reshape input ${text(from)}`, numel(from)).share(numel(to));
  }

  dispose(s: Storage | Workspace): void {
    if (s instanceof GpuStorage || s instanceof GpuWorkspace) s.release();
    else throw new Error(`dispose: storage belongs to the '${s.backend}' backend`);
  }

  // ---- elementwise and reductions ---------------------------------------------------------------

  unary(op: UnaryOp, x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('unary', op, x, shape);
    const code = opCode.unary(op);
    if (code < 0) throw new Error(`webgpu backend: unknown unary op '${op as string}'`);
    const n = numel(shape);
    const xi = this.id(x, `${op} input ${text(shape)}`, n);
    const y = this.alloc(n, `${op} output ${text(shape)}`);
    this.run('unary', [xi, y.id(op)], { n, op: code });
    return y;
  }

  binary(op: BinaryOp, a: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(a, b)) return this.onReference('binary', op, a, b, shape);
    const code = opCode.binary(op);
    if (code < 0) throw new Error(`webgpu backend: unknown binary op '${op as string}'`);
    const n = numel(shape);
    const ai = this.id(a, `${op} lhs ${text(shape)}`, n);
    const bi = this.id(b, `${op} rhs ${text(shape)}`, n);
    const y = this.alloc(n, `${op} output ${text(shape)}`);
    this.run('binary', [ai, bi, y.id(op)], { n, op: code });
    return y;
  }

  scalar(op: ScalarOp, x: Storage, value: number, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('scalar', op, x, value, shape);
    const code = opCode.scalar(op);
    if (code < 0) throw new Error(`webgpu backend: unknown scalar op '${op as string}'`);
    const n = numel(shape);
    const xi = this.id(x, `${op} input ${text(shape)}`, n);
    const y = this.alloc(n, `${op} output ${text(shape)}`);
    this.run('scalar', [xi, y.id(op)], { n, op: code, value });
    return y;
  }

  axpyInPlace(dst: Storage, src: Storage, alpha: number, shape: Shape): void {
    if (this.isF64(dst, src)) return this.onReference('axpyInPlace', dst, src, alpha, shape);
    const n = numel(shape);
    const d = this.changedId(dst, `axpy destination ${text(shape)}`, n);
    const s = this.id(src, `axpy source ${text(shape)}`, n);
    this.run('axpy', [d, s], { n, alpha });
  }

  sum(x: Storage, shape: Shape, axis: number | null): Storage {
    if (this.isF64(x)) return this.onReference('sum', x, shape, axis);
    const n = numel(shape);
    const xi = this.id(x, `sum input ${text(shape)}`, n);
    if (axis === null) {
      const y = this.alloc(1, 'sum []');
      this.run('sumAll', [xi, y.id('sum')], { n });
      return y;
    }
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length)
      throw new ShapeError(`sum: axis ${axis} out of range for shape ${text(shape)}`);
    const outer = numel(shape.slice(0, axis));
    const inner = numel(shape.slice(axis + 1));
    const y = this.alloc(outer * inner, `sum over axis ${axis} of ${text(shape)}`);
    this.run('sumAxis', [xi, y.id('sum')], { outer, len: shape[axis] ?? 1, inner });
    return y;
  }

  addBias(x: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(x, b)) return this.onReference('addBias', x, b, shape);
    const [n, c] = shape;
    if (n === undefined || c === undefined) throw new ShapeError(`addBias: expected x [N, C, ...], got ${text(shape)}`);
    const size = numel(shape);
    const xi = this.id(x, `addBias input ${text(shape)}`, size);
    const bi = this.id(b, `bias [${c}]`, c);
    const y = this.alloc(size, `addBias output ${text(shape)}`);
    this.run('addBias', [xi, bi, y.id('addBias')], { n: size, c, inner: numel(shape.slice(2)) });
    return y;
  }

  // ---- activations ---------------------------------------------------------------------------------

  relu(x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('relu', x, shape);
    return this.unary('relu', x, shape);
  }

  reluBackward(gy: Storage, y: Storage, shape: Shape): Storage {
    if (this.isF64(gy, y)) return this.onReference('reluBackward', gy, y, shape);
    const n = numel(shape);
    const g = this.id(gy, `relu gradient ${text(shape)}`, n);
    const yi = this.id(y, `relu output ${text(shape)}`, n);
    const gx = this.alloc(n, `relu input gradient ${text(shape)}`);
    this.run('reluBackward', [g, yi, gx.id('relu gradient')], { n });
    return gx;
  }

  // ---- convolution -----------------------------------------------------------------------------------

  private convSizes(g: ConvGeometry): { x: number; w: number; y: number } {
    return { x: g.n * g.c * g.h * g.w, w: g.oc * (g.c / g.groups) * g.kh * g.kw, y: g.n * g.oc * g.oh * g.ow };
  }

  private static shapes(g: ConvGeometry) {
    return {
      x: text([g.n, g.c, g.h, g.w]),
      w: text([g.oc, g.c / g.groups, g.kh, g.kw]),
      y: text([g.n, g.oc, g.oh, g.ow]),
    };
  }

  conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean, training = true): Storage {
    if (this.isF64(x, w, b)) return this.onReference('conv2d', x, w, b, g, relu, training);
    checkConv(g);
    const s = this.convSizes(g);
    const t = WebGpuBackend.shapes(g);
    const xi = this.id(x, `conv2d input ${t.x}`, s.x);
    const wi = this.weightId(w, `conv2d weight ${t.w}`, s.w);
    const bi = b ? this.id(b, `conv2d bias [${g.oc}]`, g.oc) : null;
    const y = this.alloc(s.y, `conv2d output ${t.y}`);
    this.run('conv2d', [xi, wi, bi, y.id('conv2d')], { ...g, relu: relu ? 1 : 0, f16: this.precision === 'f16' ? 1 : 0 });
    return y;
  }

  conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    if (this.isF64(gy, w)) return this.onReference('conv2dBackwardData', gy, w, g);
    checkConv(g);
    const s = this.convSizes(g);
    const t = WebGpuBackend.shapes(g);
    const gyi = this.id(gy, `conv2d output gradient ${t.y}`, s.y);
    const wi = this.id(w, `conv2d weight ${t.w}`, s.w);
    const gx = this.alloc(s.x, `conv2d input gradient ${t.x}`);
    this.run('conv2dBackwardData', [gyi, wi, gx.id('conv2d input gradient')], { ...g });
    return gx;
  }

  conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) return this.onReference('conv2dBackwardWeights', gy, x, g, withBias);
    checkConv(g);
    const s = this.convSizes(g);
    const t = WebGpuBackend.shapes(g);
    const gyi = this.id(gy, `conv2d output gradient ${t.y}`, s.y);
    const xi = this.id(x, `conv2d input ${t.x}`, s.x);
    const gw = this.alloc(s.w, `conv2d weight gradient ${t.w}`);
    const gb = withBias ? this.alloc(g.oc, `conv2d bias gradient [${g.oc}]`) : null;
    this.run('conv2dBackwardWeights', [gyi, xi, gw.id('conv2d weight gradient'), gb ? gb.id('conv2d bias gradient') : null], { ...g });
    return { gw, gb };
  }

  // ---- pooling -------------------------------------------------------------------------------------------

  maxPool2d(x: Storage, g: PoolGeometry, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) return this.onReference('maxPool2d', x, g, training);
    checkPool(g);
    const xi = this.id(x, 'max_pool2d input', g.n * g.c * g.h * g.w);
    const out = g.n * g.c * g.oh * g.ow;
    const outShape = text([g.n, g.c, g.oh, g.ow]);
    const y = this.alloc(out, `max_pool2d output ${outShape}`);
    const ws = new GpuWorkspace('maxpool', this.newBuffer(out, `max_pool2d indices ${outShape}`), out, null, this);
    this.run('maxPool', [xi, y.id('max_pool2d'), ws.id()], { ...g });
    if (training) return { y, workspace: ws };
    this.drop(ws);
    return { y, workspace: null };
  }

  maxPool2dBackward(gy: Storage, x: Storage, workspace: Workspace | null, g: PoolGeometry): Storage {
    if (this.isF64(gy, x)) return this.onReference('maxPool2dBackward', gy, x, workspace, g);
    checkPool(g);
    const out = g.n * g.c * g.oh * g.ow;
    const gyi = this.id(gy, 'max_pool2d output gradient', out);
    const xi = this.id(x, 'max_pool2d input', g.n * g.c * g.h * g.w);
    const gx = this.alloc(g.n * g.c * g.h * g.w, `max_pool2d input gradient ${text([g.n, g.c, g.h, g.w])}`);
    if (workspace !== null) {
      this.run('maxPoolBackward', [gyi, this.workspace(workspace, 'maxpool', out).id(), gx.id('max_pool2d gradient')], { ...g });
    } else {
      // No saved indices (inference forward): recompute them.
      const y = this.alloc(out, 'max_pool2d recomputed output');
      const ws = new GpuWorkspace('maxpool', this.newBuffer(out, 'max_pool2d recomputed indices'), out, null, this);
      this.run('maxPool', [xi, y.id('max_pool2d'), ws.id()], { ...g });
      this.run('maxPoolBackward', [gyi, ws.id(), gx.id('max_pool2d gradient')], { ...g });
      this.drop(y);
      this.drop(ws);
    }
    return gx;
  }

  private workspace(w: Workspace, kind: GpuWorkspace['kind'], size: number): GpuWorkspace {
    if (!(w instanceof GpuWorkspace)) throw new Error(`webgpu backend: workspace belongs to the '${w.backend}' backend`);
    if (w.owner !== this) throw new Error('webgpu backend: workspace belongs to another webgpu backend instance');
    if (w.kind !== kind || w.size !== size)
      throw new Error(`webgpu backend: expected a ${kind} workspace of ${size} elements, got a ${w.kind} workspace of ${w.size}`);
    return w;
  }

  adaptiveAvgPool2d(x: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(x)) return this.onReference('adaptiveAvgPool2d', x, g);
    checkAdaptive(g);
    const xi = this.id(x, 'adaptive_avg_pool2d input', g.n * g.c * g.h * g.w);
    const y = this.alloc(g.n * g.c * g.oh * g.ow, `adaptive_avg_pool2d output ${text([g.n, g.c, g.oh, g.ow])}`);
    this.run('adaptiveAvgPool', [xi, y.id('adaptive_avg_pool2d')], { ...g });
    return y;
  }

  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(gy)) return this.onReference('adaptiveAvgPool2dBackward', gy, g);
    checkAdaptive(g);
    const gyi = this.id(gy, 'adaptive_avg_pool2d output gradient', g.n * g.c * g.oh * g.ow);
    const gx = this.alloc(g.n * g.c * g.h * g.w, `adaptive_avg_pool2d input gradient ${text([g.n, g.c, g.h, g.w])}`);
    this.run('adaptiveAvgPoolBackward', [gyi, gx.id('adaptive_avg_pool2d gradient')], { ...g });
    return gx;
  }

  // ---- LRN ---------------------------------------------------------------------------------------------------

  private lrnParams(shape: Shape, p: LrnParams): Record<string, number> {
    checkLrn(p);
    const [n, c] = shape;
    if (shape.length < 3 || n === undefined || c === undefined)
      throw new ShapeError(`local_response_norm: expected an input of 3 or more dimensions [N, C, ...], got ${text(shape)}`);
    return { n, c, s: numel(shape.slice(2)), size: p.size, alpha: p.alpha, beta: p.beta, k: p.k };
  }

  lrn(x: Storage, shape: Shape, p: LrnParams, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) return this.onReference('lrn', x, shape, p, training);
    const params = this.lrnParams(shape, p);
    const size = numel(shape);
    const xi = this.id(x, `lrn input ${text(shape)}`, size);
    const y = this.alloc(size, `lrn output ${text(shape)}`);
    const ws = new GpuWorkspace('lrn', this.newBuffer(size, `lrn scale ${text(shape)}`), size, null, this);
    this.run('lrn', [xi, y.id('lrn'), ws.id()], params);
    if (training) return { y, workspace: ws };
    this.drop(ws);
    return { y, workspace: null };
  }

  lrnBackward(gy: Storage, x: Storage, y: Storage, workspace: Workspace | null, shape: Shape, p: LrnParams): Storage {
    if (this.isF64(gy, x, y)) return this.onReference('lrnBackward', gy, x, y, workspace, shape, p);
    const params = this.lrnParams(shape, p);
    const size = numel(shape);
    const gyi = this.id(gy, `lrn output gradient ${text(shape)}`, size);
    const xi = this.id(x, `lrn input ${text(shape)}`, size);
    const yi = this.id(y, `lrn output ${text(shape)}`, size);
    const gx = this.alloc(size, `lrn input gradient ${text(shape)}`);
    if (workspace !== null) {
      this.run('lrnBackward', [gyi, xi, yi, this.workspace(workspace, 'lrn', size).id(), gx.id('lrn gradient')], params);
    } else {
      // No saved scale (inference forward): recompute it (the recomputed y goes to scratch).
      const y2 = this.alloc(size, 'lrn recomputed output');
      const ws = new GpuWorkspace('lrn', this.newBuffer(size, `lrn scale ${text(shape)}`), size, null, this);
      this.run('lrn', [xi, y2.id('lrn'), ws.id()], params);
      this.run('lrnBackward', [gyi, xi, yi, ws.id(), gx.id('lrn gradient')], params);
      this.drop(y2);
      this.drop(ws);
    }
    return gx;
  }

  // ---- fully connected ---------------------------------------------------------------------------------------

  linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean): Storage {
    if (this.isF64(x, w, b)) return this.onReference('linear', x, w, b, g, relu);
    checkLinear(g);
    const { m, k, n } = g;
    const xi = this.id(x, `linear input [${m}, ${k}]`, m * k);
    const wi = this.weightId(w, `linear weight [${n}, ${k}]`, n * k);
    const bi = b ? this.id(b, `linear bias [${n}]`, n) : null;
    const y = this.alloc(m * n, `linear output [${m}, ${n}]`);
    this.run('linear', [xi, wi, bi, y.id('linear')], { m, k, n, relu: relu ? 1 : 0, f16: this.precision === 'f16' ? 1 : 0 });
    return y;
  }

  linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    if (this.isF64(gy, w)) return this.onReference('linearBackwardData', gy, w, g);
    checkLinear(g);
    const { m, k, n } = g;
    const gyi = this.id(gy, `linear output gradient [${m}, ${n}]`, m * n);
    const wi = this.id(w, `linear weight [${n}, ${k}]`, n * k);
    const gx = this.alloc(m * k, `linear input gradient [${m}, ${k}]`);
    this.run('linearBackwardData', [gyi, wi, gx.id('linear input gradient')], { m, k, n });
    return gx;
  }

  linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) return this.onReference('linearBackwardWeights', gy, x, g, withBias);
    checkLinear(g);
    const { m, k, n } = g;
    const gyi = this.id(gy, `linear output gradient [${m}, ${n}]`, m * n);
    const xi = this.id(x, `linear input [${m}, ${k}]`, m * k);
    const gw = this.alloc(n * k, `linear weight gradient [${n}, ${k}]`);
    const gb = withBias ? this.alloc(n, `linear bias gradient [${n}]`) : null;
    this.run('linearBackwardWeights', [gyi, xi, gw.id('linear weight gradient'), gb ? gb.id('linear bias gradient') : null], { m, k, n });
    return { gw, gb };
  }

  // ---- regularisation ------------------------------------------------------------------------------------------

  dropout(x: Storage, shape: Shape, p: number, seed: number): { y: Storage; mask: Storage } {
    if (this.isF64(x)) return this.onReference('dropout', x, shape, p, seed);
    if (!(p >= 0 && p <= 1)) throw new UsageError(`dropout: p must be in [0, 1], got ${p}`);
    if (!Number.isFinite(seed)) throw new UsageError(`dropout: seed must be a finite number, got ${seed}`);
    const n = numel(shape);
    const xi = this.id(x, `dropout input ${text(shape)}`, n);
    const y = this.alloc(n, `dropout output ${text(shape)}`);
    const mask = this.alloc(n, `dropout mask ${text(shape)}`);
    // The native backend's seed, so that all three draw the same mask.
    this.run('dropout', [xi, y.id('dropout'), mask.id('dropout mask')], { n, p, seed: Math.abs(Math.trunc(seed)) % 2 ** 52 });
    return { y, mask };
  }

  // ---- losses ----------------------------------------------------------------------------------------------------

  private labels(labels: Int32Array, n: number, c: number): GpuStorage {
    if (labels.length !== n) throw new DataError(`cross_entropy: got ${labels.length} labels for a batch of ${n}`);
    labels.forEach((l, r) => {
      if (l < 0 || l >= c)
        throw new DataError(`cross_entropy: label ${l} (batch index ${r}) is out of range for ${c} classes (expected 0..${c - 1})`);
    });
    return GpuStorage.of(this.newBuffer(n, `labels [${n}]`, labels.slice().buffer as ArrayBuffer), n, this);
  }

  logSoftmax(x: Storage, n: number, c: number): Storage {
    if (this.isF64(x)) return this.onReference('logSoftmax', x, n, c);
    checkRows('log_softmax', n, c);
    const xi = this.id(x, `logits [${n}, ${c}]`, n * c);
    const y = this.alloc(n * c, `log_softmax output [${n}, ${c}]`);
    this.run('logSoftmax', [xi, y.id('log_softmax')], { n, c });
    return y;
  }

  logSoftmaxBackward(gy: Storage, y: Storage, n: number, c: number): Storage {
    if (this.isF64(gy, y)) return this.onReference('logSoftmaxBackward', gy, y, n, c);
    checkRows('log_softmax', n, c);
    const gyi = this.id(gy, `log_softmax gradient [${n}, ${c}]`, n * c);
    const yi = this.id(y, `log_softmax output [${n}, ${c}]`, n * c);
    const gx = this.alloc(n * c, `log_softmax input gradient [${n}, ${c}]`);
    this.run('logSoftmaxBackward', [gyi, yi, gx.id('log_softmax gradient')], { n, c });
    return gx;
  }

  softmaxCrossEntropy(logits: Storage, labels: Int32Array, n: number, c: number): { loss: number; probs: Storage } {
    if (this.isF64(logits)) return this.onReference('softmaxCrossEntropy', logits, labels, n, c);
    checkRows('cross_entropy', n, c);
    const li = this.id(logits, `logits [${n}, ${c}]`, n * c);
    const lab = this.labels(labels, n, c);
    const probs = this.alloc(n * c, `probabilities [${n}, ${c}]`);
    const rows = this.alloc(n, `cross_entropy row losses [${n}]`);
    this.run('softmaxXent', [li, lab.id('labels'), probs.id('probabilities'), rows.id('row losses')], { n, c });
    this.drop(lab);
    // Summed here in row order, in double.
    const perRow = n > 0 ? new Float32Array(this.channel.readSync(rows.id('row losses'), n * 4)) : new Float32Array(0);
    this.drop(rows);
    let total = 0;
    for (const v of perRow) total += v;
    return { loss: n > 0 ? total / n : NaN, probs };
  }

  softmaxCrossEntropyBackward(probs: Storage, labels: Int32Array, n: number, c: number, scale: number): Storage {
    if (this.isF64(probs)) return this.onReference('softmaxCrossEntropyBackward', probs, labels, n, c, scale);
    checkRows('cross_entropy', n, c);
    const pi = this.id(probs, `probabilities [${n}, ${c}]`, n * c);
    const lab = this.labels(labels, n, c);
    const gx = this.alloc(n * c, `cross_entropy gradient [${n}, ${c}]`);
    this.run('softmaxXentBackward', [pi, lab.id('labels'), gx.id('cross_entropy gradient')], { n, c, f: scale / n });
    this.drop(lab);
    return gx;
  }

  // ---- optimiser -------------------------------------------------------------------------------------------------

  sgdStep(param: Storage, grad: Storage, momentumBuffer: Storage | null, size: number, p: SgdParams, firstStep: boolean): void {
    if (this.isF64(param, grad, momentumBuffer)) return this.onReference('sgdStep', param, grad, momentumBuffer, size, p, firstStep);
    if (p.momentum !== 0 && !momentumBuffer) throw new Error('sgdStep: momentum is set but no momentum buffer was given');
    const pi = this.changedId(param, 'sgd parameter', size);
    const gi = this.id(grad, 'sgd gradient', size);
    const bi = p.momentum !== 0 && momentumBuffer ? this.changedId(momentumBuffer, 'sgd momentum buffer', size) : null;
    this.run('sgdStep', [pi, gi, bi], {
      n: size,
      negLr: -p.lr,
      momentum: p.momentum,
      keep: 1 - p.dampening,
      wd: p.weightDecay,
      nesterov: p.nesterov ? 1 : 0,
      first: firstStep ? 1 : 0,
      hasBuf: bi === null ? 0 : 1,
    });
  }
}
