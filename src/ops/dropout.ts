// Inverted dropout: in training, zero each element with probability p and scale the rest by
// 1/(1-p); in eval, the identity. The mask is drawn from a seed taken from `rng`.
import { UsageError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Storage } from '../backend/backend.js';
import { makeResult, type Tensor } from '../tensor.js';

export function dropout(x: Tensor, p: number, training: boolean, rng: Generator = defaultGenerator): Tensor {
  if (!(p >= 0 && p <= 1)) throw new UsageError(`dropout: probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const { y, mask } = x.backend.dropout(x.storage, x.shape, p, rng.nextUint32());
  return masked(x, y, mask);
}

/** y = x · mask as a tensor whose backward multiplies by the same mask (freed with the graph). */
function masked(x: Tensor, y: Storage, mask: Storage): Tensor {
  const backend = x.backend;
  return makeResult(
    y,
    x.shape,
    backend,
    [x],
    () => ({
      name: 'dropout',
      inputs: [x],
      backward: (gy) => [backend.binary('mul', gy, mask, x.shape)],
      release: () => backend.dispose(mask),
    }),
    [mask],
  );
}

/** A 32-bit avalanche mix (lowbias32), the counter-based generator of dropoutRows. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Inverted dropout with one seed per row (sample) of x [N, …]: row i's mask depends only on
 * rowSeeds[i], so a sample is dropped the same way whatever batch or rank it is computed in
 * (distributed training seeds it by the sample's dataset index). The mask is built here and
 * applied with the backend's multiply, so every backend draws the same mask.
 */
export function dropoutRows(x: Tensor, p: number, rowSeeds: Uint32Array): Tensor {
  if (!(p >= 0 && p <= 1)) throw new UsageError(`dropout: probability must be in [0, 1], got ${p}`);
  const rows = x.shape[0] ?? 0;
  if (rowSeeds.length !== rows) throw new UsageError(`dropout: ${rowSeeds.length} row seeds for a batch of ${rows}`);
  if (p === 0) return x;
  const width = rows === 0 ? 0 : x.size / rows;
  const keepScale = p === 1 ? 0 : 1 / (1 - p);
  const threshold = p * 4294967296;
  const m = new Float32Array(x.size);
  for (let r = 0; r < rows; r++) {
    const s = rowSeeds[r] ?? 0;
    for (let j = 0, o = r * width; j < width; j++, o++) m[o] = mix32((s + Math.imul(j, 0x9e3779b9)) >>> 0) < threshold ? 0 : keepScale;
  }
  const backend = x.backend;
  const mask = backend.fromArray(m, x.shape);
  const y = backend.binary('mul', x.storage, mask, x.shape);
  return masked(x, y, mask);
}
