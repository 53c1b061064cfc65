// Inverted dropout: each element is kept with probability 1 − p and scaled by 1/(1 − p), or
// zeroed. The mask is drawn from a Generator seeded with `seed`, one uniform per element in
// row-major order, so the same seed gives the same mask on every machine.
import type { FloatArray } from '../backend.js';
import { Generator } from '../../random.js';
import { allocLike } from './storage.js';

/** mask[i] ∈ {0, 1/(1−p)}; y = x · mask. p = 0 keeps everything, p = 1 drops everything. */
export function dropoutKernel(x: FloatArray, p: number, seed: number): { y: FloatArray; mask: FloatArray } {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: probability must be in [0, 1], got ${p}`);
  const n = x.length;
  const mask = allocLike(x, n);
  const y = allocLike(x, n);
  if (p === 1) {
    for (let i = 0; i < n; i++) y[i] = x[i]! * 0;
    return { y, mask };
  }
  if (p === 0) {
    mask.fill(1);
    y.set(x);
    return { y, mask };
  }
  const keepScale = 1 / (1 - p);
  const gen = new Generator(seed);
  for (let i = 0; i < n; i++) {
    if (gen.uniform() >= p) mask[i] = keepScale;
    // x · mask even where dropped, as PyTorch: NaN · 0 and ±inf · 0 are NaN. The stored (possibly
    // float32-rounded) scale, as backward uses.
    y[i] = x[i]! * mask[i]!;
  }
  return { y, mask };
}
