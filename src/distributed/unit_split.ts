// How Krizhevsky's hybrid parallelism splits a fully-connected layer's output units over N ranks:
// contiguous ranges, as even as possible (sizes differ by at most one; rank r's range starts at
// r·⌊O/N⌋ + min(r, O mod N)). Collectives move equal blocks, so every block is padded to the
// widest (⌈O/N⌉); the gather and scatter helpers here pack and unpack the padded blocks.
import { UsageError } from '../errors.js';

export class UnitSplit {
  /** First unit of each rank, and each rank's count; `widest` = ⌈units / ranks⌉. */
  readonly starts: number[];
  readonly widths: number[];
  readonly widest: number;

  constructor(
    readonly units: number,
    readonly ranks: number,
  ) {
    const base = Math.floor(units / ranks);
    const extra = units % ranks;
    this.starts = Array.from({ length: ranks }, (_, r) => r * base + Math.min(r, extra));
    this.widths = Array.from({ length: ranks }, (_, r) => base + (r < extra ? 1 : 0));
    this.widest = Math.ceil(units / ranks);
  }

  start(rank: number): number {
    return this.starts[rank] ?? 0;
  }

  width(rank: number): number {
    return this.widths[rank] ?? 0;
  }

  /**
   * Columns of each rank's padded block [rows, widest] (row-major, blocks in rank order) placed
   * into the whole [rows, units]: what an all-gather of the blocks gives, reassembled.
   */
  assembleColumns(blocks: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows * this.units);
    const w = this.widest;
    for (let q = 0; q < this.ranks; q++) {
      const start = this.start(q);
      const width = this.width(q);
      for (let m = 0; m < rows; m++) {
        const from = (q * rows + m) * w;
        out.set(blocks.subarray(from, from + width), m * this.units + start);
      }
    }
    return out;
  }

  /** The inverse layout: [rows, units] cut into the ranks' padded column blocks [ranks][rows][widest] (padding zero). */
  splitColumns(whole: Float32Array, rows: number): Float32Array {
    const w = this.widest;
    const out = new Float32Array(this.ranks * rows * w);
    for (let q = 0; q < this.ranks; q++) {
      const start = this.start(q);
      const width = this.width(q);
      for (let m = 0; m < rows; m++) {
        const from = m * this.units + start;
        out.set(whole.subarray(from, from + width), (q * rows + m) * w);
      }
    }
    return out;
  }
}

/** A UsageError when some fully-connected layer has fewer output units than ranks (a rank would own none). */
export function checkHybridWidths(layers: readonly { name: string; units: number }[], ranks: number): void {
  for (const l of layers)
    if (l.units < ranks)
      throw new UsageError(
        `--parallel hybrid splits every fully-connected layer's output units over the ranks: ${l.name} has ${l.units}, fewer than the ${ranks} ranks (use fewer ranks or --parallel ddp)`,
      );
}
