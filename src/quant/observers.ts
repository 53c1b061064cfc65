// Range observers for calibration: they see every value of one activation over the calibration
// images and choose the magnitude that maps to the largest integer. All are symmetric (zero point
// 0): `minmax` takes the largest |x| seen; `percentile` the |x| below which a given fraction of the
// values lie (99.99 % by default); `entropy` the threshold of TensorRT's KL-divergence calibration
// (entropy.ts) for the activation's number of levels (128 for s8 magnitudes as in TensorRT, 256 for
// u8 after a ReLU). The last two read a histogram of |x| (histogram.ts) filled in one pass.
import { UsageError } from '../errors.js';
import { entropyThresholdBins } from './entropy.js';
import { AbsHistogram } from './histogram.js';

export const CALIBRATORS = ['minmax', 'percentile', 'entropy'] as const;
export type Calibrator = (typeof CALIBRATORS)[number];

export interface RangeObserver {
  observe(values: ArrayLike<number>): void;
  /** The magnitude to map to the largest integer (> 0; 1 when nothing but zeros was seen). */
  range(): number;
}

export class MinMaxObserver implements RangeObserver {
  private max = 0;
  observe(values: ArrayLike<number>): void {
    let m = this.max;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (a > m) m = a;
    }
    this.max = m;
  }
  range(): number {
    return this.max > 0 && Number.isFinite(this.max) ? this.max : 1;
  }
}

export class PercentileObserver implements RangeObserver {
  private readonly hist = new AbsHistogram(4096);

  constructor(readonly percentile = 99.99) {
    if (!(percentile > 0 && percentile <= 100)) throw new UsageError(`percentile must be in (0, 100], got ${percentile}`);
  }

  observe(values: ArrayLike<number>): void {
    this.hist.add(values);
  }

  range(): number {
    const { counts, top, total, max, bins, binWidth } = this.hist;
    if (top === 0) return 1;
    const want = (this.percentile / 100) * total;
    let seen = 0;
    for (let i = 0; i < bins; i++) {
      seen += counts[i]!;
      if (seen >= want) return Math.min(max, (i + 1) * binWidth);
    }
    return max;
  }
}

/**
 * TensorRT's entropy calibration: the clipping that minimises KL(P ‖ Q) over `levels` levels, on a
 * histogram of |x| with 16 bins per level (TensorRT's 2048 bins for 128 levels).
 */
export class EntropyObserver implements RangeObserver {
  private readonly hist: AbsHistogram;

  constructor(readonly levels = 128) {
    if (!(Number.isInteger(levels) && levels >= 2 && levels <= 1024))
      throw new UsageError(`entropy levels must be an integer in [2, 1024], got ${levels}`);
    this.hist = new AbsHistogram(16 * levels);
  }

  observe(values: ArrayLike<number>): void {
    this.hist.add(values);
  }

  range(): number {
    const { counts, top, max, binWidth } = this.hist;
    if (top === 0) return 1;
    const i = entropyThresholdBins(counts, this.levels);
    return Math.min(max, (i + 0.5) * binWidth);
  }
}

/** An observer of `calibrator` for an activation stored as s8 (signed) or u8 (after a ReLU). */
export function makeObserver(calibrator: Calibrator, stored: 's8' | 'u8' = 's8'): RangeObserver {
  if (calibrator === 'minmax') return new MinMaxObserver();
  if (calibrator === 'percentile') return new PercentileObserver();
  return new EntropyObserver(stored === 'u8' ? 256 : 128);
}
