// Range observers for calibration: they see every value of one activation over the calibration
// images and choose the magnitude that maps to the largest integer. Both are symmetric (zero point
// 0): `minmax` takes the largest |x| seen; `percentile` the |x| below which a given fraction of the
// values lie (99.99 % by default), read from a histogram of |x| whose range doubles (adjacent bins
// merged) whenever a larger value arrives, so no value is kept and one pass suffices.
import { UsageError } from '../errors.js';

export const CALIBRATORS = ['minmax', 'percentile'] as const;
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

const BINS = 4096;

export class PercentileObserver implements RangeObserver {
  private readonly counts = new Float64Array(BINS);
  /** Upper edge of the last bin (0 until a non-zero value is seen). */
  private top = 0;
  private total = 0;
  private max = 0;

  constructor(readonly percentile = 99.99) {
    if (!(percentile > 0 && percentile <= 100)) throw new UsageError(`percentile must be in (0, 100], got ${percentile}`);
  }

  /** Doubles the range until it holds `a`, merging adjacent bins. */
  private grow(a: number): void {
    if (this.top === 0) {
      this.top = a;
      return;
    }
    while (this.top < a) {
      for (let i = 0; i < BINS / 2; i++) this.counts[i] = this.counts[2 * i]! + this.counts[2 * i + 1]!;
      this.counts.fill(0, BINS / 2);
      this.top *= 2;
    }
  }

  observe(values: ArrayLike<number>): void {
    let m = 0;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (a > m && Number.isFinite(a)) m = a;
    }
    if (m > this.top) this.grow(m);
    if (m > this.max) this.max = m;
    const perBin = this.top > 0 ? BINS / this.top : 0;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (!Number.isFinite(a)) continue;
      this.counts[Math.min(BINS - 1, Math.floor(a * perBin))]! += 1;
      this.total++;
    }
  }

  range(): number {
    if (this.top === 0) return 1;
    const want = (this.percentile / 100) * this.total;
    let seen = 0;
    for (let i = 0; i < BINS; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return Math.min(this.max, ((i + 1) * this.top) / BINS);
    }
    return this.max;
  }
}

export function makeObserver(calibrator: Calibrator): RangeObserver {
  return calibrator === 'minmax' ? new MinMaxObserver() : new PercentileObserver();
}
