// A histogram of |x| over [0, top) in a fixed number of equal bins, filled in one pass without
// keeping any value: `top` starts at the first non-zero batch's largest |x| and doubles (adjacent
// bins merged in pairs) whenever a larger value arrives, so the largest value seen always lies in
// the upper half of the range. The percentile and entropy observers read their ranges from it.

export class AbsHistogram {
  readonly counts: Float64Array;
  /** Upper edge of the last bin (0 until a non-zero value is seen). */
  top = 0;
  /** Values counted (non-finite ones are skipped). */
  total = 0;
  /** The largest finite |x| seen. */
  max = 0;

  constructor(readonly bins: number) {
    if (!(Number.isInteger(bins) && bins >= 2 && bins % 2 === 0))
      throw new RangeError(`histogram bins must be an even integer ≥ 2, got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  /** Width of one bin. */
  get binWidth(): number {
    return this.top / this.bins;
  }

  /** Doubles the range until it holds `a`, merging adjacent bins. */
  private grow(a: number): void {
    if (this.top === 0) {
      this.top = a;
      return;
    }
    const half = this.bins / 2;
    while (this.top < a) {
      for (let i = 0; i < half; i++) this.counts[i] = this.counts[2 * i]! + this.counts[2 * i + 1]!;
      this.counts.fill(0, half);
      this.top *= 2;
    }
  }

  add(values: ArrayLike<number>): void {
    let m = 0;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (a > m && Number.isFinite(a)) m = a;
    }
    if (m > this.top) this.grow(m);
    if (m > this.max) this.max = m;
    const perBin = this.top > 0 ? this.bins / this.top : 0;
    const last = this.bins - 1;
    for (let i = 0; i < values.length; i++) {
      const a = Math.abs(values[i]!);
      if (!Number.isFinite(a)) continue;
      this.counts[Math.min(last, Math.floor(a * perBin))]! += 1;
      this.total++;
    }
  }
}
