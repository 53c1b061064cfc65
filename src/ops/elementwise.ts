// Elementwise arithmetic on tensors of one shape, and with scalars; what optimisers, metrics and
// gradient checks need. Each records its backward.
import type { BinaryOp, Storage, UnaryOp } from '../backend/backend.js';
import { makeResult, type Tensor } from '../tensor.js';
import { backendOf, sameShape, sameShapeResult } from './util.js';

function binary(op: BinaryOp, a: Tensor, b: Tensor, grads: (gy: Storage) => [Storage | null, Storage | null]): Tensor {
  const backend = backendOf(op, a, b);
  sameShape(op, a, b);
  const y = backend.binary(op, a.storage, b.storage, a.shape);
  return makeResult(y, a.shape, backend, [a, b], () => ({ name: op, inputs: [a, b], backward: grads, release() {} }));
}

export function add(a: Tensor, b: Tensor): Tensor {
  const be = a.backend;
  return binary('add', a, b, (gy) => [be.clone(gy, a.shape), be.clone(gy, a.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const be = a.backend;
  return binary('sub', a, b, (gy) => [be.clone(gy, a.shape), be.scalar('mul', gy, -1, a.shape)]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const be = a.backend;
  return binary('mul', a, b, (gy) => [be.binary('mul', gy, b.storage, a.shape), be.binary('mul', gy, a.storage, a.shape)]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const be = a.backend;
  return binary('div', a, b, (gy) => {
    const ga = be.binary('div', gy, b.storage, a.shape);
    // d(a/b)/db = -a/b² = -(a/b)/b
    const q = be.binary('div', a.storage, b.storage, a.shape);
    const t = be.binary('mul', ga, q, a.shape);
    be.dispose(q);
    const gb = be.scalar('mul', t, -1, a.shape);
    be.dispose(t);
    return [ga, gb];
  });
}

export function mulScalar(x: Tensor, s: number): Tensor {
  const be = x.backend;
  return sameShapeResult('mul_scalar', x, be.scalar('mul', x.storage, s, x.shape), (gy) => be.scalar('mul', gy, s, x.shape));
}

export function addScalar(x: Tensor, s: number): Tensor {
  const be = x.backend;
  return sameShapeResult('add_scalar', x, be.scalar('add', x.storage, s, x.shape), (gy) => be.clone(gy, x.shape));
}

function unary(op: UnaryOp, x: Tensor, grad: (gy: Storage, y: Storage) => Storage): Tensor {
  return sameShapeResult(op, x, x.backend.unary(op, x.storage, x.shape), grad);
}

export function neg(x: Tensor): Tensor {
  return unary('neg', x, (gy) => x.backend.scalar('mul', gy, -1, x.shape));
}

export function exp(x: Tensor): Tensor {
  return unary('exp', x, (gy, y) => x.backend.binary('mul', gy, y, x.shape));
}

export function log(x: Tensor): Tensor {
  return unary('log', x, (gy) => x.backend.binary('div', gy, x.storage, x.shape));
}

export function sqrt(x: Tensor): Tensor {
  const be = x.backend;
  return unary('sqrt', x, (gy, y) => {
    const t = be.binary('div', gy, y, x.shape);
    const g = be.scalar('mul', t, 0.5, x.shape);
    be.dispose(t);
    return g;
  });
}
