// Tensor: a shape, a dtype and backend-owned storage, plus the reverse-mode autograd record
// (gradFn) that ops attach to their outputs. Ops live in src/ops; this file holds only what
// every op needs: creation (every factory checks its shape before anything is allocated),
// reading back, backward(), grad mode and memory scopes (tidy).
import type { Backend, DType, FloatArray, Shape, Storage, Workspace } from './backend/backend.js';
import { getBackend } from './backend/registry.js';
import { ShapeError } from './errors.js';
import { checkShape, numel, shapeText } from './shape.js';
import { defaultGenerator, type Generator } from './random.js';

/** One recorded op: its inputs and how to map the output gradient to input gradients. */
export interface GradFn {
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  /** Gradients for each input (null where an input needs none). Storage ownership passes to the caller. */
  backward(gy: Storage): (Storage | null)[];
  /** Frees what the op saved for backward (workspaces, masks). Called once, after backward. */
  release(): void;
}

export interface TensorOptions {
  requiresGrad?: boolean;
  backend?: Backend;
}

export interface BackwardOptions {
  /** Keep the graph (and what its ops saved) for another backward through it, as PyTorch's retain_graph. */
  retainGraph?: boolean;
}

export { numel, shapeText } from './shape.js';

// ---- grad mode ------------------------------------------------------------------------------

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording autograd (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

// ---- memory scopes ---------------------------------------------------------------------------

const scopes: Set<Tensor>[] = [];
let liveTensors = 0;

/** Number of tensors created and not yet disposed (native memory is freed on dispose). */
export function liveTensorCount(): number {
  return liveTensors;
}

/**
 * Runs `fn` and disposes every tensor created inside it, except those reachable from its result
 * (a tensor, an array or an object of tensors) and those marked with keep().
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept);
  const outer = scopes[scopes.length - 1];
  for (const t of scope) {
    if (kept.has(t)) outer?.add(t);
    else t.dispose();
  }
  return result;
}

/** Removes a tensor from the enclosing tidy scopes so it outlives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collectTensors(v: unknown, out: Set<Tensor>): void {
  if (v instanceof Tensor) {
    out.add(v);
    if (v.grad) out.add(v.grad);
  } else if (Array.isArray(v)) {
    for (const x of v) collectTensors(x, out);
  } else if (v instanceof Map) {
    for (const x of v.values()) collectTensors(x, out);
  } else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, out);
  }
}

// ---- tensor --------------------------------------------------------------------------------

export class Tensor {
  readonly shape: Shape;
  readonly backend: Backend;
  private _storage: Storage | null;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  gradFn: GradFn | null = null;

  /** Wraps storage that the caller hands over (ops use this); most users want Tensor.fromArray. */
  constructor(storage: Storage, shape: Shape, backend: Backend, requiresGrad = false) {
    if (storage.size !== numel(shape)) {
      throw new Error(`Tensor: storage holds ${storage.size} elements, shape ${shapeText(shape)} needs ${numel(shape)}`);
    }
    this._storage = storage;
    this.shape = Object.freeze([...shape]);
    this.backend = backend;
    this.requiresGrad = requiresGrad;
    liveTensors++;
    scopes[scopes.length - 1]?.add(this);
  }

  static fromArray(data: FloatArray | readonly number[], shape?: Shape, opts: TensorOptions = {}): Tensor {
    const sh = shape ?? [data.length];
    checkShape(sh, 'Tensor.fromArray');
    if (numel(sh) !== data.length) {
      throw new ShapeError(`Tensor.fromArray: ${data.length} values do not fill shape ${shapeText(sh)} (${numel(sh)} elements)`);
    }
    const arr = data instanceof Float32Array || data instanceof Float64Array ? data : Float32Array.from(data);
    const backend = opts.backend ?? getBackend();
    return new Tensor(backend.fromArray(arr, sh), sh, backend, opts.requiresGrad ?? false);
  }

  static full(shape: Shape, value: number, opts: TensorOptions & { dtype?: DType } = {}): Tensor {
    return filled('Tensor.full', shape, value, opts);
  }

  static zeros(shape: Shape, opts: TensorOptions & { dtype?: DType } = {}): Tensor {
    return filled('Tensor.zeros', shape, 0, opts);
  }

  static ones(shape: Shape, opts: TensorOptions & { dtype?: DType } = {}): Tensor {
    return filled('Tensor.ones', shape, 1, opts);
  }

  /** Standard normal values × std + mean, drawn from `rng` (the default generator if omitted). */
  static randn(shape: Shape, opts: TensorOptions & { dtype?: DType; rng?: Generator; mean?: number; std?: number } = {}): Tensor {
    const rng = opts.rng ?? defaultGenerator;
    const mean = opts.mean ?? 0;
    const std = opts.std ?? 1;
    return drawn('Tensor.randn', shape, opts, () => mean + std * rng.normal());
  }

  /** Uniform values in [low, high) drawn from `rng`. */
  static uniform(shape: Shape, low: number, high: number, opts: TensorOptions & { dtype?: DType; rng?: Generator } = {}): Tensor {
    const rng = opts.rng ?? defaultGenerator;
    return drawn('Tensor.uniform', shape, opts, () => low + (high - low) * rng.uniform());
  }

  get storage(): Storage {
    if (this._storage === null) throw new Error(`Tensor ${shapeText(this.shape)} was disposed and cannot be used`);
    return this._storage;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }

  get size(): number {
    return numel(this.shape);
  }

  get ndim(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this._storage === null;
  }

  /** Plain row-major copy of the values. */
  toArray(): FloatArray {
    return this.backend.toArray(this.storage, this.shape);
  }

  /** The values, without blocking the thread where the backend can (the webgpu backend reads the GPU asynchronously). */
  async data(): Promise<FloatArray> {
    const storage = this.storage;
    return this.backend.toArrayAsync ? this.backend.toArrayAsync(storage, this.shape) : this.backend.toArray(storage, this.shape);
  }

  /** The value of a one-element tensor. */
  item(): number {
    const value = this.size === 1 ? this.toArray()[0] : undefined;
    if (value === undefined) throw new ShapeError(`item(): tensor has ${this.size} elements, shape ${shapeText(this.shape)}`);
    return value;
  }

  /** A tensor sharing nothing with the graph: same values, no gradFn, no requiresGrad. */
  detach(): Tensor {
    return new Tensor(this.backend.clone(this.storage, this.shape), this.shape, this.backend);
  }

  /** Replaces the values in place (optimisers, loadStateDict); shapes must match. */
  assign(src: Tensor): void {
    if (src.size !== this.size) throw new Error(`assign: shape ${shapeText(src.shape)} does not match ${shapeText(this.shape)}`);
    const next =
      this.backend === src.backend ? this.backend.clone(src.storage, this.shape) : this.backend.fromArray(src.toArray(), this.shape);
    if (this._storage) this.backend.dispose(this._storage);
    this._storage = next;
  }

  /**
   * Overwrites elements offset … offset + values.length − 1 (row-major) in place, without a
   * second copy of the tensor: how weights are loaded piece by piece from a file.
   */
  write(offset: number, values: Float32Array): void {
    this.backend.write(this.storage, offset, values, this.shape);
  }

  /** Frees the storage now (native memory); later use throws. Safe to call twice. */
  dispose(): void {
    if (this._storage === null) return;
    this.backend.dispose(this._storage);
    this._storage = null;
    liveTensors--;
    if (this.gradFn) {
      this.gradFn.release();
      this.gradFn = null;
    }
  }

  /**
   * Reverse-mode autodiff from this tensor. `grad` defaults to ones for a scalar. Gradients of
   * leaf tensors with requiresGrad accumulate into `.grad`. The graph is freed afterwards, so a
   * second backward through it throws, unless this one is given { retainGraph: true }.
   */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    if (!this.requiresGrad) throw new Error('backward(): tensor does not require grad (no parameter or input needs a gradient)');
    if (!grad && this.size !== 1) throw new Error(`backward(): grad must be given for a non-scalar output ${shapeText(this.shape)}`);
    if (grad && (grad.size !== this.size || grad.ndim !== this.ndim || grad.shape.some((d, i) => d !== this.shape[i]))) {
      throw new ShapeError(`backward(): grad ${shapeText(grad.shape)} does not match output ${shapeText(this.shape)}`);
    }
    const order = graphOrder(this);
    const seed = grad ? this.backend.clone(grad.storage, this.shape) : this.backend.full(this.shape, 1, this.dtype);
    runBackward(this, order, seed, opts.retainGraph ?? false);
  }

  toString(): string {
    return `Tensor(${shapeText(this.shape)}, ${this.dtype}, ${this.backend.name})`;
  }
}

/** A tensor of one value; `call` names the factory in shape errors. */
function filled(call: string, shape: Shape, value: number, opts: TensorOptions & { dtype?: DType }): Tensor {
  checkShape(shape, call);
  const backend = opts.backend ?? getBackend();
  return new Tensor(backend.full(shape, value, opts.dtype ?? 'float32'), shape, backend, opts.requiresGrad ?? false);
}

/** A tensor of values drawn one by one from `next`; `call` names the factory in shape errors. */
function drawn(call: string, shape: Shape, opts: TensorOptions & { dtype?: DType }, next: () => number): Tensor {
  checkShape(shape, call);
  const data = opts.dtype === 'float64' ? new Float64Array(numel(shape)) : new Float32Array(numel(shape));
  for (let i = 0; i < data.length; i++) data[i] = next();
  return Tensor.fromArray(data, shape, opts);
}

/** Creates an op's output tensor and records its GradFn when any input needs a gradient. */
export function makeResult(
  storage: Storage,
  shape: Shape,
  backend: Backend,
  inputs: readonly (Tensor | null)[],
  makeGradFn: () => GradFn,
  owned: readonly (Storage | Workspace)[] = [],
): Tensor {
  const needsGrad = gradEnabled && inputs.some((t) => t !== null && t.requiresGrad);
  const out = new Tensor(storage, shape, backend, needsGrad);
  if (needsGrad) out.gradFn = makeGradFn();
  else for (const s of owned) backend.dispose(s);
  return out;
}

/** Op outputs whose recorded op a backward has already run and released (no longer leaves, no gradFn). */
const freedGraph = new WeakSet<Tensor>();

/**
 * The tensors that lead to root through recorded ops, inputs before outputs. Throws, before any
 * gradient is touched, when the path runs through an op a previous backward released.
 */
function graphOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: { t: Tensor; next: number }[] = [];
  const visit = (t: Tensor) => {
    if (freedGraph.has(t)) {
      throw new Error(
        'backward(): trying to backward through the graph a second time (the first backward freed what its ops saved); ' +
          'call the first backward with { retainGraph: true } to run through the graph again',
      );
    }
    seen.add(t);
    stack.push({ t, next: 0 });
  };
  visit(root);
  for (let top = stack.at(-1); top; top = stack.at(-1)) {
    const inputs = top.t.gradFn?.inputs ?? [];
    if (top.next < inputs.length) {
      const inp = inputs[top.next++];
      if (inp && inp.requiresGrad && !seen.has(inp)) visit(inp);
    } else {
      stack.pop();
      order.push(top.t);
    }
  }
  return order;
}

function runBackward(root: Tensor, order: readonly Tensor[], seed: Storage, retainGraph: boolean): void {
  const grads = new Map<Tensor, Storage>([[root, seed]]);
  const backend = root.backend;
  for (let idx = order.length - 1; idx >= 0; idx--) {
    const t = order[idx]!;
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    const fn = t.gradFn;
    if (!fn) {
      // A leaf: accumulate into .grad.
      if (t.grad) {
        backend.axpyInPlace(t.grad.storage, g, 1, t.shape);
        backend.dispose(g);
      } else {
        t.grad = keep(new Tensor(g, t.shape, backend));
      }
      continue;
    }
    const inGrads = fn.backward(g);
    backend.dispose(g);
    fn.inputs.forEach((inp, k) => {
      const gi = inGrads[k];
      if (!gi) return;
      if (!inp || !inp.requiresGrad) {
        backend.dispose(gi);
        return;
      }
      const prev = grads.get(inp);
      if (prev) {
        backend.axpyInPlace(prev, gi, 1, inp.shape);
        backend.dispose(gi);
      } else grads.set(inp, gi);
    });
    if (!retainGraph) {
      fn.release();
      t.gradFn = null;
      freedGraph.add(t);
    }
  }
}
