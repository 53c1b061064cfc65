// Small checks shared by the ops: one backend per op, matching shapes, float dtypes agree.
import type { Backend, Shape, Storage } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { makeResult, shapeText, type Tensor } from '../tensor.js';

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

/** The output y of a one-input op of x's shape, recording its backward: grad(gy, y's storage) → gx. */
export function sameShapeResult(name: string, x: Tensor, y: Storage, grad: (gy: Storage, y: Storage) => Storage): Tensor {
  const out: Tensor = makeResult(y, x.shape, x.backend, [x], () => ({
    name,
    inputs: [x],
    backward: (gy) => [grad(gy, out.storage)],
    release() {},
  }));
  return out;
}

/** The gradients a weight layer computes from the output gradient (ReLU already applied). */
export interface WeightLayerGrads {
  data(gy: Storage): Storage;
  weights(gy: Storage): { gw: Storage; gb: Storage | null };
}

/**
 * The output of a weight layer y = relu?(layer(x, weight, bias)) (conv2d, linear), recording a
 * backward that masks gy with the ReLU, then computes only the gradients some input needs.
 */
export function weightLayerResult(
  name: string,
  y: Storage,
  yShape: Shape,
  relu: boolean,
  [x, weight, bias]: [Tensor, Tensor, Tensor | null],
  grads: WeightLayerGrads,
): Tensor {
  const backend = x.backend;
  const out: Tensor = makeResult(y, yShape, backend, [x, weight, bias], () => ({
    name: relu ? `${name}_relu` : name,
    inputs: [x, weight, bias],
    backward(gyIn) {
      const gy = relu ? backend.reluBackward(gyIn, out.storage, yShape) : gyIn;
      const gx = x.requiresGrad ? grads.data(gy) : null;
      const r = weight.requiresGrad || bias?.requiresGrad ? grads.weights(gy) : { gw: null, gb: null };
      if (relu) backend.dispose(gy);
      return [gx, r.gw, r.gb];
    },
    release() {},
  }));
  return out;
}
