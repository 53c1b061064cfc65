// Log-softmax and softmax cross-entropy over logits [n, c], row by row, numerically stable
// (the row maximum is subtracted before exponentiating). Labels are class indices in [0, c).
import type { FloatArray } from '../backend.js';
import { DataError } from '../../errors.js';
import { allocLike } from './storage.js';

/**
 * log(Σ_j exp(x[row, j])) for one row starting at `base`, computed as PyTorch does:
 * max + log(Σ exp(x − max)). A NaN or +inf in the row makes it NaN (+inf − +inf), and a row of
 * -inf gives -inf (so log_softmax is -inf − -inf = NaN there, as in PyTorch).
 */
function logSumExp(x: FloatArray, base: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < c; j++) {
    const v = x[base + j]!;
    if (v > max || v !== v) max = v;
    if (max !== max) return NaN;
  }
  if (max === Infinity) return NaN;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < c; j++) s += Math.exp(x[base + j]! - max);
  return max + Math.log(s);
}

/** y [n, c] = x − logsumexp(x) per row. */
export function logSoftmaxKernel(x: FloatArray, n: number, c: number): FloatArray {
  const y = allocLike(x, n * c);
  for (let r = 0; r < n; r++) {
    const base = r * c;
    const lse = logSumExp(x, base, c);
    for (let j = 0; j < c; j++) y[base + j] = x[base + j]! - lse;
  }
  return y;
}

/** gx = gy − exp(y) · Σ_j gy[row, j]. */
export function logSoftmaxBackwardKernel(gy: FloatArray, y: FloatArray, n: number, c: number): FloatArray {
  const gx = allocLike(gy, n * c);
  for (let r = 0; r < n; r++) {
    const base = r * c;
    let s = 0;
    for (let j = 0; j < c; j++) s += gy[base + j]!;
    for (let j = 0; j < c; j++) gx[base + j] = gy[base + j]! - Math.exp(y[base + j]!) * s;
  }
  return gx;
}

function checkLabels(labels: Int32Array, n: number, c: number): void {
  if (labels.length !== n) throw new DataError(`cross_entropy: got ${labels.length} labels for a batch of ${n}`);
  for (let r = 0; r < n; r++) {
    const l = labels[r]!;
    if (l < 0 || l >= c) {
      throw new DataError(`cross_entropy: label ${l} (batch index ${r}) is out of range for ${c} classes (expected 0..${c - 1})`);
    }
  }
}

/** Mean over rows of −log softmax(x)[label]; also returns probs = softmax(x) for backward. */
export function softmaxCrossEntropyKernel(
  logits: FloatArray,
  labels: Int32Array,
  n: number,
  c: number,
): { loss: number; probs: FloatArray } {
  checkLabels(labels, n, c);
  const probs = allocLike(logits, n * c);
  let total = 0;
  for (let r = 0; r < n; r++) {
    const base = r * c;
    const lse = logSumExp(logits, base, c);
    for (let j = 0; j < c; j++) probs[base + j] = Math.exp(logits[base + j]! - lse);
    total += lse - logits[base + labels[r]!]!;
  }
  return { loss: n > 0 ? total / n : NaN, probs };
}

/** gx = (probs − onehot(labels)) · scale / n. */
export function softmaxCrossEntropyBackwardKernel(probs: FloatArray, labels: Int32Array, n: number, c: number, scale: number): FloatArray {
  checkLabels(labels, n, c);
  const gx = allocLike(probs, n * c);
  const f = scale / n;
  for (let r = 0; r < n; r++) {
    const base = r * c;
    for (let j = 0; j < c; j++) gx[base + j] = probs[base + j]! * f;
    gx[base + labels[r]!]! -= f;
  }
  return gx;
}
