// Classification metrics over logits or probabilities [N, C]: top-k hits, a confusion matrix
// (rows = true class, columns = predicted class), per-class accuracy, and softmax in float64.

/** Indices of the k largest values of row `row` of a [N, C] array, largest first (ties: lower index first). */
export function topkIndices(values: ArrayLike<number>, row: number, classes: number, k: number): number[] {
  const base = row * classes;
  const kk = Math.min(k, classes);
  const best: number[] = [];
  for (let j = 0; j < classes; j++) {
    // Indices in range by construction (j < classes; best holds column indices).
    const v = values[base + j]!;
    if (best.length === kk && !(v > values[base + best[kk - 1]!]!)) continue;
    let pos = best.length === kk ? kk - 1 : best.length;
    if (best.length < kk) best.push(j);
    while (pos > 0 && v > values[base + best[pos - 1]!]!) {
      best[pos] = best[pos - 1]!;
      pos--;
    }
    best[pos] = j;
  }
  return best;
}

/** A fraction (accuracy, error rate) to 6 decimals, for files people read: 0.4086, not 0.40859999999999996. */
export function roundFraction(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x;
}

/** `x` to `digits` significant digits (losses and other unbounded values in result files). */
export function roundSignificant(x: number, digits = 6): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

/** Row-wise softmax of [N, C] values, computed in float64. */
export function softmaxRows(values: ArrayLike<number>, n: number, c: number): Float64Array {
  const out = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < c; j++) max = Math.max(max, values[i * c + j]!);
    let sum = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(values[i * c + j]! - max);
      out[i * c + j] = e;
      sum += e;
    }
    for (let j = 0; j < c; j++) out[i * c + j]! /= sum;
  }
  return out;
}

/** Running counts of correct top-1 / top-5 predictions. */
export class TopKCounter {
  count = 0;
  top1 = 0;
  top5 = 0;

  /** Adds a batch of scores [n, c] (logits or probabilities) with their labels. */
  update(scores: ArrayLike<number>, labels: ArrayLike<number>, n: number, c: number): void {
    for (let i = 0; i < n; i++) {
      const best = topkIndices(scores, i, c, 5);
      const label = labels[i]!; // i < n = labels.length
      if (best[0] === label) this.top1++;
      if (best.includes(label)) this.top5++;
      this.count++;
    }
  }

  get top1Accuracy(): number {
    return this.count ? this.top1 / this.count : 0;
  }

  get top5Accuracy(): number {
    return this.count ? this.top5 / this.count : 0;
  }
}

export class ConfusionMatrix {
  /** counts[t * classes + p]: samples of true class t predicted as p. */
  readonly counts: Float64Array;

  constructor(readonly classes: readonly string[]) {
    this.counts = new Float64Array(classes.length * classes.length);
  }

  add(truth: number, predicted: number): void {
    const k = truth * this.classes.length + predicted;
    if (!(k >= 0 && k < this.counts.length)) throw new RangeError(`ConfusionMatrix.add: class ${truth} or ${predicted} out of range`);
    this.counts[k]!++;
  }

  /** Fraction of each true class predicted correctly (NaN for a class with no sample). */
  perClassAccuracy(): number[] {
    const c = this.classes.length;
    return this.classes.map((_, t) => {
      let total = 0;
      for (let p = 0; p < c; p++) total += this.counts[t * c + p]!;
      return total ? this.counts[t * c + t]! / total : NaN;
    });
  }

  /** CSV with a header row of predicted classes and one row per true class. */
  toCsv(): string {
    const c = this.classes.length;
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = ['true\\predicted,' + this.classes.map(q).join(',')];
    this.classes.forEach((name, t) => lines.push([q(name), ...Array.from(this.counts.subarray(t * c, (t + 1) * c))].join(',')));
    return lines.join('\n') + '\n';
  }
}
