// The wasm backend: every Backend kernel over the WebAssembly kernels module (wasm/*.c), for
// float32 storages held in the module's memory. Inputs are checked here (owner, dtype, element
// counts against shapes, and every geometry: checks.ts) before any kernel runs, because the
// kernels index the memory directly. Parallel kernels run on the thread pool; small elementwise
// work stays on the calling thread. float64 storages run on the reference backend's kernels
// through one wrapper (onReference), as in the native backend.
import type {
  AdaptivePoolGeometry,
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
import { MAX_ELEMENTS, checkAdaptive, checkConv, checkLinear, checkLrn, checkPool, checkRows } from './checks.js';
import type { WasmHeap } from './heap.js';
import type { KernelExports, ParallelKernel } from './kernels.js';
import type { ThreadPool } from './pool.js';
import { Block, WASM, WasmStorage, WasmWorkspace } from './storage.js';

const UNARY: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, relu: 5, sign: 6 };
const BINARY: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };
const SCALAR: Record<ScalarOp, number> = { add: 0, mul: 1, pow: 2, max: 3, min: 4, rsub: 5, rdiv: 6 };
/** Elementwise work below this many elements runs on one thread (waking workers costs more). */
const PARALLEL_MIN = 1 << 15;

export class WasmBackend implements Backend {
  readonly name = WASM;
  readonly precision = 'f32' as const;
  /** 16 int32 for a geometry record, reused by every call (calls are synchronous). */
  private readonly geomPtr: number;

  constructor(
    readonly heap: WasmHeap,
    readonly kernels: KernelExports,
    readonly pool: ThreadPool,
    private readonly reference: ReferenceBackend,
    /** The kernels module this backend runs (its file name, or 'custom'). */
    readonly moduleName: string,
  ) {
    this.geomPtr = heap.alloc(64);
  }

  /** Threads the kernels run on (1 without shared memory). */
  get threads(): number {
    return this.pool.threads;
  }

  /** The kernels run on the calling thread (and its workers): `fn` runs now. */
  runAsync<T>(fn: () => T): Promise<T> {
    return new Promise((resolve) => resolve(fn()));
  }

  /** Stops the worker threads; parallel kernel calls throw afterwards. */
  close(): void {
    this.pool.close();
  }

  // ---- storages, blocks and kernel calls -----------------------------------------------------

  private cast(s: Storage, what: string, size?: number): WasmStorage {
    if (!(s instanceof WasmStorage)) {
      throw new Error(`wasm backend: ${what} is stored on the '${s.backend}' backend; move it to the wasm backend first`);
    }
    if (s.heap !== null && s.heap !== this.heap) throw new Error(`wasm backend: ${what} belongs to another wasm backend instance`);
    if (size !== undefined && s.size !== size) throw new Error(`wasm backend: ${what} holds ${s.size} elements, expected ${size}`);
    return s;
  }

  /** The byte offset of a float32 storage of `size` elements. */
  private p(s: Storage, what: string, size: number): number {
    return this.cast(s, what, size).ptr(what);
  }

  private alloc(size: number): WasmStorage {
    if (size > MAX_ELEMENTS)
      throw new ShapeError(`wasm backend: a tensor of ${size} elements is larger than the ${MAX_ELEMENTS} it supports`);
    return WasmStorage.of(new Block(this.heap, this.heap.alloc(size * 4)), size);
  }

  /** A temporary block for the duration of `fn`. */
  private withTemp<T>(bytes: number, fn: (ptr: number) => T): T {
    if (bytes === 0) return fn(0);
    const ptr = this.heap.alloc(bytes);
    try {
      return fn(ptr);
    } finally {
      this.heap.release(ptr);
    }
  }

  private run(name: ParallelKernel, args: number[], elements = Infinity): void {
    this.pool.run(name, args, elements >= PARALLEL_MIN ? this.pool.threads : 1);
  }

  private setGeom(values: number[]): number {
    this.heap.i32.set(values, this.geomPtr / 4);
    return this.geomPtr;
  }

  // ---- float64: the reference kernels ----------------------------------------------------------

  /** True when the operands are float64: the op then runs on the reference kernels. */
  private isF64(...xs: (Storage | null)[]): boolean {
    return isFloat64('wasm', xs);
  }

  /** How this backend's float64 storages and workspaces map to the reference backend's. */
  private readonly codec: ReferenceCodec = {
    toReference: (a) => {
      if (a instanceof WasmStorage) {
        if (!a.f64) throw new Error('wasm backend: a float32 operand reached a float64 kernel');
        return a.f64;
      }
      if (a instanceof WasmWorkspace) return a.ref;
      if (a instanceof RefStorage || a instanceof RefWorkspace) throw foreignOperand('wasm', a);
      return a;
    },
    wrap: (r) => (r instanceof RefStorage ? WasmStorage.ofFloat64(r) : new WasmWorkspace(r.kind, null, 0, r)),
  };

  /** The reference backend's kernel `name` on the reference storages behind float64 operands. */
  private onReference<K extends Kernel>(name: K, ...args: Parameters<Backend[K]>): ReturnType<Backend[K]> {
    return onReference(this.reference, this.codec, name, args);
  }

  // ---- memory --------------------------------------------------------------------------------------

  fromArray(data: FloatArray, shape: Shape): Storage {
    const size = numel(shape);
    if (data.length !== size) throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${text(shape)} (${size} elements)`);
    if (data instanceof Float64Array) return this.onReference('fromArray', data, shape);
    const s = this.alloc(size);
    this.heap.f32.set(data, s.ptr('new tensor') / 4);
    return s;
  }

  toArray(s: Storage, shape: Shape): FloatArray {
    if (this.isF64(s)) return this.onReference('toArray', s, shape);
    const size = numel(shape);
    const at = this.p(s, `tensor of shape ${text(shape)}`, size) / 4;
    return this.heap.f32.slice(at, at + size);
  }

  full(shape: Shape, value: number, dtype: DType): Storage {
    if (dtype === 'float64') return this.onReference('full', shape, value, dtype);
    const size = numel(shape);
    const s = this.alloc(size);
    this.kernels.fill_f32(s.ptr('new tensor'), value, size);
    return s;
  }

  clone(s: Storage, shape: Shape): Storage {
    if (this.isF64(s)) return this.onReference('clone', s, shape);
    const size = numel(shape);
    const from = this.p(s, `clone input ${text(shape)}`, size);
    const y = this.alloc(size);
    const to = y.ptr('clone');
    this.heap.u8.copyWithin(to, from, from + size * 4);
    return y;
  }

  write(s: Storage, offset: number, values: Float32Array, shape: Shape): void {
    if (this.isF64(s)) return this.onReference('write', s, offset, values, shape);
    const size = numel(shape);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + values.length > size)
      throw new ShapeError(`write: ${values.length} values at offset ${offset} do not fit in ${text(shape)} (${size} elements)`);
    this.heap.f32.set(values, this.p(s, `write target ${text(shape)}`, size) / 4 + offset);
    this.modified(s);
  }

  reshape(s: Storage, from: Shape, to: Shape): Storage {
    if (numel(from) !== numel(to)) throw new ShapeError(`reshape: cannot view ${text(from)} as ${text(to)}`);
    if (this.isF64(s)) return this.onReference('reshape', s, from, to);
    return this.cast(s, `reshape input ${text(from)}`, numel(from)).share(numel(to));
  }

  dispose(s: Storage | Workspace): void {
    if (s instanceof WasmStorage || s instanceof WasmWorkspace) s.release();
    else throw new Error(`dispose: storage belongs to the '${s.backend}' backend`);
  }

  // ---- elementwise and reductions ----------------------------------------------------------------------

  unary(op: UnaryOp, x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('unary', op, x, shape);
    const code = UNARY[op];
    if (code === undefined) throw new Error(`wasm backend: unknown unary op '${op as string}'`);
    const n = numel(shape);
    const xp = this.p(x, `${op} input ${text(shape)}`, n);
    const y = this.alloc(n);
    this.run('unary_f32', [code, xp, y.ptr(op), n], n);
    return y;
  }

  binary(op: BinaryOp, a: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(a, b)) return this.onReference('binary', op, a, b, shape);
    const code = BINARY[op];
    if (code === undefined) throw new Error(`wasm backend: unknown binary op '${op as string}'`);
    const n = numel(shape);
    const ap = this.p(a, `${op} lhs ${text(shape)}`, n);
    const bp = this.p(b, `${op} rhs ${text(shape)}`, n);
    const y = this.alloc(n);
    this.run('binary_f32', [code, ap, bp, y.ptr(op), n], n);
    return y;
  }

  scalar(op: ScalarOp, x: Storage, value: number, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('scalar', op, x, value, shape);
    const code = SCALAR[op];
    if (code === undefined) throw new Error(`wasm backend: unknown scalar op '${op as string}'`);
    const n = numel(shape);
    const xp = this.p(x, `${op} input ${text(shape)}`, n);
    const y = this.alloc(n);
    this.run('scalar_f32', [code, xp, value, y.ptr(op), n], n);
    return y;
  }

  axpyInPlace(dst: Storage, src: Storage, alpha: number, shape: Shape): void {
    if (this.isF64(dst, src)) return this.onReference('axpyInPlace', dst, src, alpha, shape);
    const n = numel(shape);
    const d = this.p(dst, `axpy destination ${text(shape)}`, n);
    const s = this.p(src, `axpy source ${text(shape)}`, n);
    this.run('axpy_f32', [d, s, alpha, n], n);
    this.modified(dst);
  }

  sum(x: Storage, shape: Shape, axis: number | null): Storage {
    if (this.isF64(x)) return this.onReference('sum', x, shape, axis);
    const n = numel(shape);
    const xp = this.p(x, `sum input ${text(shape)}`, n);
    if (axis === null) {
      const y = this.alloc(1);
      this.kernels.sum_all_f32(xp, y.ptr('sum'), n);
      return y;
    }
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length)
      throw new ShapeError(`sum: axis ${axis} out of range for shape ${text(shape)}`);
    const outer = numel(shape.slice(0, axis));
    const inner = numel(shape.slice(axis + 1));
    const y = this.alloc(outer * inner);
    this.run('sum_axis_f32', [xp, y.ptr('sum'), outer, shape[axis] ?? 1, inner], n);
    return y;
  }

  addBias(x: Storage, b: Storage, shape: Shape): Storage {
    if (this.isF64(x, b)) return this.onReference('addBias', x, b, shape);
    const [n, c] = shape;
    if (n === undefined || c === undefined) throw new ShapeError(`addBias: expected x [N, C, ...], got ${text(shape)}`);
    const size = numel(shape);
    const xp = this.p(x, `addBias input ${text(shape)}`, size);
    const bp = this.p(b, `bias [${c}]`, c);
    const y = this.alloc(size);
    this.run('add_bias_f32', [xp, bp, y.ptr('addBias'), n, c, numel(shape.slice(2))], size);
    return y;
  }

  // ---- activations -------------------------------------------------------------------------------------

  relu(x: Storage, shape: Shape): Storage {
    if (this.isF64(x)) return this.onReference('relu', x, shape);
    const n = numel(shape);
    const xp = this.p(x, `relu input ${text(shape)}`, n);
    const y = this.alloc(n);
    this.run('relu_f32', [xp, y.ptr('relu'), n], n);
    return y;
  }

  reluBackward(gy: Storage, y: Storage, shape: Shape): Storage {
    if (this.isF64(gy, y)) return this.onReference('reluBackward', gy, y, shape);
    const n = numel(shape);
    const gp = this.p(gy, `relu gradient ${text(shape)}`, n);
    const yp = this.p(y, `relu output ${text(shape)}`, n);
    const gx = this.alloc(n);
    this.run('relu_backward_f32', [gp, yp, gx.ptr('relu gradient'), n], n);
    return gx;
  }

  // ---- convolution ---------------------------------------------------------------------------------------

  private convSizes(g: ConvGeometry): { x: number; w: number; y: number } {
    return { x: g.n * g.c * g.h * g.w, w: g.oc * (g.c / g.groups) * g.kh * g.kw, y: g.n * g.oc * g.oh * g.ow };
  }

  conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean, training = true): Storage {
    if (this.isF64(x, w, b)) return this.onReference('conv2d', x, w, b, g, relu, training);
    const geom = checkConv(g);
    const s = this.convSizes(g);
    const xp = this.p(x, 'conv2d input', s.x);
    const wp = this.p(w, 'conv2d weight', s.w);
    const bp = b ? this.p(b, `conv2d bias [${g.oc}]`, g.oc) : 0;
    const y = this.alloc(s.y);
    const gp = this.setGeom(geom);
    const block = this.cast(w, 'conv2d weight').block('conv2d weight');
    const winograd = training ? 0 : this.winogradWeights(block, xp, s.x, wp, s.w, gp, g);
    if (winograd !== 0) {
      const scratch = this.kernels.conv2d_winograd_scratch_bytes(gp, this.threads);
      this.withTemp(scratch, (sp) => this.run('conv2d_winograd_forward', [xp, winograd, bp, y.ptr('conv2d'), gp, relu ? 1 : 0, sp]));
      return y;
    }
    const packed = this.packedWeights(block, wp, gp, g);
    const scratch = this.kernels.conv2d_forward_scratch_bytes(gp, this.threads);
    this.withTemp(scratch, (sp) => this.run('conv2d_forward', [xp, wp, packed, bp, y.ptr('conv2d'), gp, relu ? 1 : 0, sp]));
    return y;
  }

  /**
   * For inference, 3×3 and 5×5 stride-1 convolutions run Winograd F(2×2, 3×3) or F(2×2, 5×5) on the weights transformed
   * once (kept as packedWeights keeps its panels): the weights' transform, or 0 for the direct
   * path — other geometries, and tensors holding ±∞ or NaN (the transforms would turn an
   * infinity the direct sum keeps into NaN).
   */
  private winogradWeights(block: Block, xp: number, xSize: number, wp: number, wSize: number, gp: number, g: ConvGeometry): number {
    if (this.kernels.conv2d_winograd_eligible(gp) === 0 || this.kernels.all_finite_f32(xp, xSize) === 0) return 0;
    const key = `winograd ${g.oc} ${g.c} ${g.kh}`;
    const cached = block.derived(key);
    if (cached) return cached.ptr;
    if (this.kernels.all_finite_f32(wp, wSize) === 0) return 0;
    try {
      const bytes = this.kernels.conv2d_winograd_weights_bytes(gp) >>> 0;
      const scratch = this.kernels.conv2d_winograd_pack_scratch_bytes(gp, this.threads) >>> 0;
      const fill = (ptr: number) => this.withTemp(scratch, (sp) => this.run('conv2d_winograd_pack_weights', [wp, ptr, sp, gp]));
      return block.derive(key, bytes, fill).ptr;
    } catch (err) {
      if (err instanceof DataError) return 0;
      throw err;
    }
  }

  /**
   * The weights' GEMM panels, packed once and kept with the weights' block until a write changes
   * them (write, axpyInPlace, sgdStep bump its version): inference packs each weight once, not once
   * per call and thread. 0 (pack per call) when the memory has no room for the copy.
   */
  private packedWeights(block: Block, wp: number, gp: number, g: ConvGeometry): number {
    const key = `conv2d ${g.oc} ${g.c} ${g.kh} ${g.kw} ${g.groups}`; // what the layout depends on
    const cached = block.derived(key);
    if (cached) return cached.ptr;
    try {
      const bytes = this.kernels.conv2d_packed_weights_bytes(gp) >>> 0;
      return block.derive(key, bytes, (ptr) => this.run('conv2d_pack_weights', [wp, ptr, gp])).ptr;
    } catch (err) {
      if (err instanceof DataError) return 0;
      throw err;
    }
  }

  /** Records an in-place write into float32 storages (their derived copies are then stale). */
  private modified(...xs: (Storage | null)[]): void {
    for (const x of xs) if (x instanceof WasmStorage && x.dtype === 'float32') x.block('written tensor').modified();
  }

  conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    if (this.isF64(gy, w)) return this.onReference('conv2dBackwardData', gy, w, g);
    const geom = checkConv(g);
    const s = this.convSizes(g);
    const gyp = this.p(gy, 'conv2d output gradient', s.y);
    const wp = this.p(w, 'conv2d weight', s.w);
    const gx = this.alloc(s.x);
    const gp = this.setGeom(geom);
    const scratch = this.kernels.conv2d_backward_data_scratch_bytes(gp, this.threads);
    this.withTemp(scratch, (sp) => this.run('conv2d_backward_data', [gyp, wp, gx.ptr('conv2d input gradient'), gp, sp]));
    return gx;
  }

  conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) return this.onReference('conv2dBackwardWeights', gy, x, g, withBias);
    const geom = checkConv(g);
    const s = this.convSizes(g);
    const gyp = this.p(gy, 'conv2d output gradient', s.y);
    const xp = this.p(x, 'conv2d input', s.x);
    const gw = this.alloc(s.w);
    const gb = withBias ? this.alloc(g.oc) : null;
    const gp = this.setGeom(geom);
    const scratch = this.kernels.conv2d_backward_weights_scratch_bytes(gp, this.threads);
    this.withTemp(scratch, (sp) =>
      this.run('conv2d_backward_weights', [gyp, xp, gw.ptr('conv2d weight gradient'), gb ? gb.ptr('conv2d bias gradient') : 0, gp, sp]),
    );
    return { gw, gb };
  }

  // ---- pooling ---------------------------------------------------------------------------------------------

  maxPool2d(x: Storage, g: PoolGeometry, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) return this.onReference('maxPool2d', x, g, training);
    const geom = checkPool(g);
    const xp = this.p(x, 'max_pool2d input', g.n * g.c * g.h * g.w);
    const out = g.n * g.c * g.oh * g.ow;
    const y = this.alloc(out);
    const ws = training ? new WasmWorkspace('maxpool', new Block(this.heap, this.heap.alloc(out * 4)), out, null) : null;
    const elements = g.n * g.c * g.h * g.w;
    this.run('max_pool_forward_f32', [xp, y.ptr('max_pool2d'), ws ? ws.ptr() : 0, this.setGeom(geom)], elements);
    return { y, workspace: ws };
  }

  maxPool2dBackward(gy: Storage, x: Storage, workspace: Workspace | null, g: PoolGeometry): Storage {
    if (this.isF64(gy, x)) return this.onReference('maxPool2dBackward', gy, x, workspace, g);
    const geom = checkPool(g);
    const out = g.n * g.c * g.oh * g.ow;
    const gyp = this.p(gy, 'max_pool2d output gradient', out);
    const xp = this.p(x, 'max_pool2d input', g.n * g.c * g.h * g.w);
    const gx = this.alloc(g.n * g.c * g.h * g.w);
    const backward = (argmax: number) =>
      this.run('max_pool_backward_f32', [gyp, argmax, gx.ptr('max_pool2d input gradient'), this.setGeom(geom)]);
    if (workspace !== null) {
      const ws = this.workspace(workspace, 'maxpool', out);
      backward(ws.ptr());
    } else {
      // No saved indices (inference forward): recompute them.
      this.withTemp(out * 8, (tmp) => {
        this.run('max_pool_forward_f32', [xp, tmp, tmp + out * 4, this.setGeom(geom)]);
        backward(tmp + out * 4);
      });
    }
    return gx;
  }

  private workspace(w: Workspace, kind: WasmWorkspace['kind'], size: number): WasmWorkspace {
    if (!(w instanceof WasmWorkspace)) throw new Error(`wasm backend: workspace belongs to the '${w.backend}' backend`);
    if (w.heap !== this.heap) throw new Error('wasm backend: workspace belongs to another wasm backend instance');
    if (w.kind !== kind || w.size !== size)
      throw new Error(`wasm backend: expected a ${kind} workspace of ${size} elements, got a ${w.kind} workspace of ${w.size}`);
    return w;
  }

  adaptiveAvgPool2d(x: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(x)) return this.onReference('adaptiveAvgPool2d', x, g);
    const geom = checkAdaptive(g);
    const xp = this.p(x, 'adaptive_avg_pool2d input', g.n * g.c * g.h * g.w);
    const y = this.alloc(g.n * g.c * g.oh * g.ow);
    // Work grows with the larger of input and output (AlexNet's 6×6 → 6×6 stays on this thread).
    const elements = g.n * g.c * Math.max(g.h * g.w, g.oh * g.ow);
    this.run('adaptive_avg_pool_forward_f32', [xp, y.ptr('adaptive_avg_pool2d'), this.setGeom(geom)], elements);
    return y;
  }

  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePoolGeometry): Storage {
    if (this.isF64(gy)) return this.onReference('adaptiveAvgPool2dBackward', gy, g);
    const geom = checkAdaptive(g);
    const gyp = this.p(gy, 'adaptive_avg_pool2d output gradient', g.n * g.c * g.oh * g.ow);
    const gx = this.alloc(g.n * g.c * g.h * g.w);
    this.run('adaptive_avg_pool_backward_f32', [gyp, gx.ptr('adaptive_avg_pool2d input gradient'), this.setGeom(geom)]);
    return gx;
  }

  // ---- LRN ---------------------------------------------------------------------------------------------------

  private lrnDims(shape: Shape): { n: number; c: number; s: number } {
    const [n, c] = shape;
    if (shape.length < 3 || n === undefined || c === undefined)
      throw new ShapeError(`local_response_norm: expected an input of 3 or more dimensions [N, C, ...], got ${text(shape)}`);
    return { n, c, s: numel(shape.slice(2)) };
  }

  lrn(x: Storage, shape: Shape, p: LrnParams, training: boolean): { y: Storage; workspace: Workspace | null } {
    if (this.isF64(x)) return this.onReference('lrn', x, shape, p, training);
    checkLrn(p);
    const { n, c, s } = this.lrnDims(shape);
    const size = numel(shape);
    const xp = this.p(x, `lrn input ${text(shape)}`, size);
    const y = this.alloc(size);
    const ws = training ? new WasmWorkspace('lrn', new Block(this.heap, this.heap.alloc(size * 4)), size, null) : null;
    this.run('lrn_forward_f32', [xp, y.ptr('lrn'), ws ? ws.ptr() : 0, n, c, s, p.size, p.alpha, p.beta, p.k]);
    return { y, workspace: ws };
  }

  lrnBackward(gy: Storage, x: Storage, y: Storage, workspace: Workspace | null, shape: Shape, p: LrnParams): Storage {
    if (this.isF64(gy, x, y)) return this.onReference('lrnBackward', gy, x, y, workspace, shape, p);
    checkLrn(p);
    const { n, c, s } = this.lrnDims(shape);
    const size = numel(shape);
    const gyp = this.p(gy, `lrn output gradient ${text(shape)}`, size);
    const xp = this.p(x, `lrn input ${text(shape)}`, size);
    const yp = this.p(y, `lrn output ${text(shape)}`, size);
    const gx = this.alloc(size);
    const backward = (scale: number) =>
      this.run('lrn_backward_f32', [gyp, xp, yp, scale, gx.ptr('lrn input gradient'), n, c, s, p.size, p.alpha, p.beta]);
    if (workspace !== null) {
      backward(this.workspace(workspace, 'lrn', size).ptr());
    } else {
      // No saved scale (inference forward): recompute it (the recomputed y goes to scratch).
      this.withTemp(size * 8, (tmp) => {
        this.run('lrn_forward_f32', [xp, tmp, tmp + size * 4, n, c, s, p.size, p.alpha, p.beta, p.k]);
        backward(tmp + size * 4);
      });
    }
    return gx;
  }

  // ---- fully connected ------------------------------------------------------------------------------------------

  linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean): Storage {
    if (this.isF64(x, w, b)) return this.onReference('linear', x, w, b, g, relu);
    checkLinear(g);
    const { m, k, n } = g;
    const xp = this.p(x, `linear input [${m}, ${k}]`, m * k);
    const wp = this.p(w, `linear weight [${n}, ${k}]`, n * k);
    const bp = b ? this.p(b, `linear bias [${n}]`, n) : 0;
    const y = this.alloc(m * n);
    const scratch = this.kernels.linear_forward_scratch_bytes(m, k, n, this.threads);
    this.withTemp(scratch, (sp) => this.run('linear_forward', [xp, wp, bp, y.ptr('linear'), m, k, n, relu ? 1 : 0, sp]));
    return y;
  }

  linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    if (this.isF64(gy, w)) return this.onReference('linearBackwardData', gy, w, g);
    checkLinear(g);
    const { m, k, n } = g;
    const gyp = this.p(gy, `linear output gradient [${m}, ${n}]`, m * n);
    const wp = this.p(w, `linear weight [${n}, ${k}]`, n * k);
    const gx = this.alloc(m * k);
    const scratch = this.kernels.linear_backward_data_scratch_bytes(m, k, n, this.threads);
    this.withTemp(scratch, (sp) => this.run('linear_backward_data', [gyp, wp, gx.ptr('linear input gradient'), m, k, n, sp]));
    return gx;
  }

  linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    if (this.isF64(gy, x)) return this.onReference('linearBackwardWeights', gy, x, g, withBias);
    checkLinear(g);
    const { m, k, n } = g;
    const gyp = this.p(gy, `linear output gradient [${m}, ${n}]`, m * n);
    const xp = this.p(x, `linear input [${m}, ${k}]`, m * k);
    const gw = this.alloc(n * k);
    const gb = withBias ? this.alloc(n) : null;
    const scratch = this.kernels.linear_backward_weights_scratch_bytes(m, k, n, this.threads);
    this.withTemp(scratch, (sp) =>
      this.run('linear_backward_weights', [
        gyp,
        xp,
        gw.ptr('linear weight gradient'),
        gb ? gb.ptr('linear bias gradient') : 0,
        m,
        k,
        n,
        sp,
      ]),
    );
    return { gw, gb };
  }

  // ---- regularisation ---------------------------------------------------------------------------------------------

  dropout(x: Storage, shape: Shape, p: number, seed: number): { y: Storage; mask: Storage } {
    if (this.isF64(x)) return this.onReference('dropout', x, shape, p, seed);
    if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
    if (!Number.isFinite(seed)) throw new Error(`dropout: seed must be a finite number, got ${seed}`);
    const n = numel(shape);
    const xp = this.p(x, `dropout input ${text(shape)}`, n);
    // The native backend's seed and scale, so that both draw the same mask.
    const s = Math.abs(Math.trunc(seed)) % 2 ** 52;
    const keepScale = p >= 1 ? 0 : Math.fround(1 / (1 - p));
    const y = this.alloc(n);
    const mask = this.alloc(n);
    this.run('dropout_f32', [xp, y.ptr('dropout'), mask.ptr('dropout mask'), n, p, keepScale, s % 2 ** 32, Math.floor(s / 2 ** 32)], n);
    return { y, mask };
  }

  // ---- losses ------------------------------------------------------------------------------------------------------

  private checkLabels(labels: Int32Array, n: number, c: number): void {
    if (labels.length !== n) throw new DataError(`cross_entropy: got ${labels.length} labels for a batch of ${n}`);
    labels.forEach((l, r) => {
      if (l < 0 || l >= c)
        throw new DataError(`cross_entropy: label ${l} (batch index ${r}) is out of range for ${c} classes (expected 0..${c - 1})`);
    });
  }

  /** The labels copied into the module's memory for the duration of `fn`. */
  private withLabels<T>(labels: Int32Array, fn: (ptr: number) => T): T {
    return this.withTemp(labels.length * 4, (ptr) => {
      this.heap.i32.set(labels, ptr / 4);
      return fn(ptr);
    });
  }

  logSoftmax(x: Storage, n: number, c: number): Storage {
    if (this.isF64(x)) return this.onReference('logSoftmax', x, n, c);
    checkRows('log_softmax', n, c);
    const xp = this.p(x, `logits [${n}, ${c}]`, n * c);
    const y = this.alloc(n * c);
    this.run('log_softmax_f32', [xp, y.ptr('log_softmax'), n, c], n * c);
    return y;
  }

  logSoftmaxBackward(gy: Storage, y: Storage, n: number, c: number): Storage {
    if (this.isF64(gy, y)) return this.onReference('logSoftmaxBackward', gy, y, n, c);
    checkRows('log_softmax', n, c);
    const gyp = this.p(gy, `log_softmax gradient [${n}, ${c}]`, n * c);
    const yp = this.p(y, `log_softmax output [${n}, ${c}]`, n * c);
    const gx = this.alloc(n * c);
    this.run('log_softmax_backward_f32', [gyp, yp, gx.ptr('log_softmax input gradient'), n, c], n * c);
    return gx;
  }

  softmaxCrossEntropy(logits: Storage, labels: Int32Array, n: number, c: number): { loss: number; probs: Storage } {
    if (this.isF64(logits)) return this.onReference('softmaxCrossEntropy', logits, labels, n, c);
    checkRows('cross_entropy', n, c);
    this.checkLabels(labels, n, c);
    const lp = this.p(logits, `logits [${n}, ${c}]`, n * c);
    const probs = this.alloc(n * c);
    const total = this.withLabels(labels, (labelsPtr) =>
      this.withTemp(n * 8, (rows) => {
        this.run('softmax_xent_f32', [lp, labelsPtr, probs.ptr('probabilities'), rows, n, c], n * c);
        // Summed here in row order, so the loss does not depend on the thread count.
        const perRow = this.heap.f64.subarray(rows / 8, rows / 8 + n);
        let sum = 0;
        for (const v of perRow) sum += v;
        return sum;
      }),
    );
    return { loss: n > 0 ? total / n : NaN, probs };
  }

  softmaxCrossEntropyBackward(probs: Storage, labels: Int32Array, n: number, c: number, scale: number): Storage {
    if (this.isF64(probs)) return this.onReference('softmaxCrossEntropyBackward', probs, labels, n, c, scale);
    checkRows('cross_entropy', n, c);
    this.checkLabels(labels, n, c);
    const pp = this.p(probs, `probabilities [${n}, ${c}]`, n * c);
    const gx = this.alloc(n * c);
    this.withLabels(labels, (labelsPtr) =>
      this.run('softmax_xent_backward_f32', [pp, labelsPtr, gx.ptr('cross_entropy gradient'), n, c, scale], n * c),
    );
    return gx;
  }

  // ---- optimiser ----------------------------------------------------------------------------------------------------

  sgdStep(param: Storage, grad: Storage, momentumBuffer: Storage | null, size: number, p: SgdParams, firstStep: boolean): void {
    if (this.isF64(param, grad, momentumBuffer)) return this.onReference('sgdStep', param, grad, momentumBuffer, size, p, firstStep);
    if (p.momentum !== 0 && !momentumBuffer) throw new Error('sgdStep: momentum is set but no momentum buffer was given');
    const pp = this.p(param, 'sgd parameter', size);
    const gp = this.p(grad, 'sgd gradient', size);
    const bp = p.momentum !== 0 && momentumBuffer ? this.p(momentumBuffer, 'sgd momentum buffer', size) : 0;
    // PyTorch turns the Python scalars into float32 before using them.
    const f = Math.fround;
    this.run(
      'sgd_step_f32',
      [pp, gp, bp, size, f(-p.lr), f(p.momentum), f(1 - p.dampening), f(p.weightDecay), p.nesterov ? 1 : 0, firstStep ? 1 : 0],
      size,
    );
    this.modified(param, grad, momentumBuffer);
  }
}
