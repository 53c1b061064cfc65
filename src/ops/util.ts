// Small checks shared by the ops: one backend per op, matching shapes, float dtypes agree.
import type { Backend } from '../backend/backend.js';
import { shapeStr, type Tensor } from '../tensor.js';

/** The backend all given tensors live on; throws when they differ. */
export function backendOf(op: string, ...ts: (Tensor | null)[]): Backend {
  let b: Backend | null = null;
  for (const t of ts) {
    if (!t) continue;
    if (b && t.backend !== b) throw new Error(`${op}: tensors live on different backends (${b.name} and ${t.backend.name})`);
    b = t.backend;
    if (t.dtype !== ts.find((x) => x)!.dtype) throw new Error(`${op}: mixed dtypes ${ts.find((x) => x)!.dtype} and ${t.dtype}`);
  }
  if (!b) throw new Error(`${op}: no tensor given`);
  return b;
}

export function sameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  }
}
