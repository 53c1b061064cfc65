// Seeds derived by hashing, so that every sample's randomness depends only on (seed, epoch,
// index) — not on worker count, batch size or timing — and every epoch's order only on
// (seed, epoch). Resuming at epoch e, batch b therefore reproduces the original run exactly.
import { Generator } from '../random.js';

/** A 32-bit avalanche mix (lowbias32). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hashes a list of non-negative integers (each below 2^53) to a 32-bit seed. */
export function hashSeed(...parts: number[]): number {
  let h = 0x243f6a88;
  for (const p of parts) {
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = mix32((h ^ lo) + 0x9e3779b9);
    h = mix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

/** The generator that drives the augmentations of sample `index` in `epoch`. */
export function sampleGenerator(seed: number, epoch: number, index: number): Generator {
  return new Generator(hashSeed(seed, epoch, index, 1));
}

/** Sample order of `epoch`: a seeded permutation, or 0..n-1 without shuffling. */
export function epochOrder(n: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  if (!shuffle) {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    return order;
  }
  return new Generator(hashSeed(seed, epoch, 2)).permutation(n);
}
