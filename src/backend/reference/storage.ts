// Storage and workspace of the reference backend: plain typed arrays in row-major order,
// owned by the garbage collector. `asRef`/`asRefWorkspace` are the checked casts every kernel
// uses on its inputs, so that a tensor of another backend fails loudly instead of misbehaving.
import type { DType, FloatArray, Storage, Workspace } from '../backend.js';

export const REFERENCE = 'reference';

export class RefStorage implements Storage {
  readonly backend = REFERENCE;
  readonly dtype: DType;
  readonly size: number;

  constructor(readonly data: FloatArray) {
    this.dtype = data instanceof Float64Array ? 'float64' : 'float32';
    this.size = data.length;
  }
}

/** Saved data for a backward pass: max-pool argmax indices or the LRN scale. */
export class RefWorkspace implements Workspace {
  readonly backend = REFERENCE;

  constructor(
    readonly kind: 'maxpool' | 'lrn',
    readonly indices: Int32Array | null,
    readonly values: FloatArray | null,
  ) {}
}

export { numel } from '../../shape.js';

/** New zeroed array of the given dtype. */
export function allocate(dtype: DType, size: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

/** New zeroed array of the same dtype as `like`. */
export function allocLike(like: FloatArray, size: number): FloatArray {
  return like instanceof Float64Array ? new Float64Array(size) : new Float32Array(size);
}

/** Checked cast: the reference storage behind `s`, or an error naming `what` and the owner. */
export function asRef(s: Storage, what: string): RefStorage {
  if (!(s instanceof RefStorage)) {
    throw new Error(`reference backend: ${what} is stored on the '${s.backend}' backend; move it to the reference backend first`);
  }
  return s;
}

/** Checked cast for storages that must hold exactly `size` elements. */
export function refData(s: Storage, what: string, size: number): FloatArray {
  const r = asRef(s, what);
  if (r.size !== size) throw new Error(`reference backend: ${what} holds ${r.size} elements, expected ${size}`);
  return r.data;
}

/** Checked cast for workspaces; `kind` says which kernel must have produced it. */
export function asRefWorkspace(w: Workspace, kind: RefWorkspace['kind']): RefWorkspace {
  if (!(w instanceof RefWorkspace)) {
    throw new Error(`reference backend: workspace belongs to the '${w.backend}' backend, not the reference backend`);
  }
  if (w.kind !== kind) throw new Error(`reference backend: expected a ${kind} workspace, got a ${w.kind} workspace`);
  return w;
}

/** Throws unless every array has the same element type as the first (float32 vs float64). */
export function sameDtype(what: string, ...arrays: FloatArray[]): void {
  const f64 = arrays[0] instanceof Float64Array;
  for (const a of arrays) {
    if (a instanceof Float64Array !== f64) throw new Error(`reference backend: ${what}: operands mix float32 and float64`);
  }
}
