// PyTorch's DistributedSampler: every epoch the whole set is shuffled with the epoch's seed (the
// same permutation a single process uses), padded by repeating its start to a multiple of the
// number of ranks, and rank r takes positions r, r + N, r + 2N, …. So the samples of global batch b
// (per-rank batch B/N on N ranks) are exactly those of batch b of one process with batch B.
import { epochOrder } from '../data/seeds.js';

export class DistributedSampler {
  /** Samples per rank and epoch. */
  readonly length: number;

  constructor(
    readonly datasetLength: number,
    readonly seed: number,
    readonly rank: number,
    readonly size: number,
  ) {
    this.length = Math.ceil(datasetLength / size);
  }

  /** Dataset indices this rank visits in `epoch`, in order. */
  order(epoch: number): Int32Array {
    const all = epochOrder(this.datasetLength, this.seed, epoch, true);
    const out = new Int32Array(this.length);
    for (let i = 0; i < this.length; i++) out[i] = all[(this.rank + i * this.size) % all.length] ?? 0;
    return out;
  }
}
