// Small checks shared by the ops: one backend per op, matching shapes, float dtypes agree.
import type { Backend, Shape, Storage } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { shapeText, type Tensor } from '../tensor.js';

/**
 * The backend all given tensors live on. Tensors on different backends are a programming error
 * (Error); tensors of different dtypes do not fit the op (ShapeError).
 */
export function backendOf(op: string, ...ts: (Tensor | null)[]): Backend {
  const given = ts.filter((t): t is Tensor => t !== null);
  const [first] = given;
  if (!first) throw new Error(`${op}: no tensor given`);
  for (const t of given) {
    if (t.backend !== first.backend)
      throw new Error(`${op}: tensors live on different backends (${first.backend.name} and ${t.backend.name})`);
    if (t.dtype !== first.dtype) throw new ShapeError(`${op}: mixed dtypes ${first.dtype} and ${t.dtype}`);
  }
  return first.backend;
}

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new ShapeError(`${op}: shapes ${shapeText(a.shape)} and ${shapeText(b.shape)} differ`);
  }
}

/**
 * Backward of a weight layer with optional fused ReLU, y = relu?(layer(x, w, b)): masks gy with
 * the ReLU, then computes only the gradients that some input needs.
 */
export function weightLayerBackward(
  backend: Backend,
  gyIn: Storage,
  y: Tensor,
  relu: boolean,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  data: (gy: Storage) => Storage,
  weights: (gy: Storage) => { gw: Storage; gb: Storage | null },
): (Storage | null)[] {
  const yShape: Shape = y.shape;
  const gy = relu ? backend.reluBackward(gyIn, y.storage, yShape) : gyIn;
  const gx = x.requiresGrad ? data(gy) : null;
  const r = weight.requiresGrad || bias?.requiresGrad ? weights(gy) : { gw: null, gb: null };
  if (relu) backend.dispose(gy);
  return [gx, r.gw, r.gb];
}
