// TensorRT's entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017): from a
// histogram of |x|, choose the clipping threshold whose quantized distribution loses the least
// information. For each candidate i (levels ≤ i ≤ bins): P is the first i bins with every count
// beyond them (the values the threshold clips) added to bin i − 1; Q is the same i bins merged into
// `levels` groups of equal width (the last takes the remainder), each group's count spread evenly
// over its bins that are non-empty in P (quantization cannot create values in an empty bin). Both
// are smoothed as MXNet's calibration does (each zero bin gets ε, taken evenly from the others) so
// that the divergence is finite; the threshold is the middle of bin i for the i that minimises
// KL(P ‖ Q) ((i + 0.5) · bin width, TensorRT's choice). As NVIDIA's pytorch-quantization does, the
// first bin's count is replaced by the second's first: after a ReLU half the values are exact
// zeros, and that spike, smeared over its group by Q, would otherwise dominate the divergence and
// pull the threshold far inside the distribution (1.8σ instead of about 4.5σ on a ReLU'd Gaussian).

const EPS = 1e-4;

/** KL(P ‖ Q) after smoothing, for unnormalised p and q of length i (smoothing keeps their sums). */
function smoothedDivergence(p: Float64Array, q: Float64Array, i: number): number {
  let sp = 0;
  let sq = 0;
  let pZeros = 0;
  let qZeros = 0;
  for (let j = 0; j < i; j++) {
    sp += p[j]!;
    sq += q[j]!;
    if (p[j] === 0) pZeros++;
    if (q[j] === 0) qZeros++;
  }
  if (pZeros === i || qZeros === i) return Infinity;
  const takeP = (EPS * pZeros) / (i - pZeros);
  const takeQ = (EPS * qZeros) / (i - qZeros);
  let kl = 0;
  for (let j = 0; j < i; j++) {
    const pj = (p[j] === 0 ? EPS : p[j]! - takeP) / sp;
    const qj = (q[j] === 0 ? EPS : q[j]! - takeQ) / sq;
    kl += pj * Math.log(pj / qj);
  }
  return kl;
}

/** Fills p and q (length ≥ i) for clipping after i bins; `outliers` is the count beyond them. */
function distributions(counts: Float64Array, i: number, levels: number, outliers: number, p: Float64Array, q: Float64Array): void {
  for (let j = 0; j < i; j++) p[j] = counts[j]!;
  p[i - 1]! += outliers;
  const width = Math.floor(i / levels);
  for (let g = 0; g < levels; g++) {
    const start = g * width;
    const stop = g === levels - 1 ? i : start + width;
    let sum = 0;
    let nonEmpty = 0;
    for (let j = start; j < stop; j++) {
      sum += counts[j]!;
      if (p[j]! > 0) nonEmpty++;
    }
    const each = nonEmpty > 0 ? sum / nonEmpty : 0;
    for (let j = start; j < stop; j++) q[j] = p[j]! > 0 ? each : 0;
  }
}

/** The divergence of clipping `counts` after its first `i` bins and quantizing them to `levels` levels. */
export function clippingDivergence(counts: Float64Array, i: number, levels: number): number {
  let outliers = 0;
  for (let j = i; j < counts.length; j++) outliers += counts[j]!;
  const p = new Float64Array(i);
  const q = new Float64Array(i);
  distributions(counts, i, levels, outliers, p, q);
  return smoothedDivergence(p, q, i);
}

/**
 * The number of bins i whose clipping minimises KL(P ‖ Q) for `levels` quantization levels
 * (`counts.length` when the histogram has no more bins than levels).
 */
export function entropyThresholdBins(counts: Float64Array, levels: number): number {
  const bins = counts.length;
  if (bins <= levels) return bins;
  counts = counts.slice();
  counts[0] = counts[1]!;
  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  // beyond[i]: the count in bins i and up (what clipping after i bins moves into bin i − 1).
  const beyond = new Float64Array(bins + 1);
  for (let j = bins - 1; j >= 0; j--) beyond[j] = beyond[j + 1]! + counts[j]!;
  let best = bins;
  let bestKl = Infinity;
  for (let i = levels; i <= bins; i++) {
    distributions(counts, i, levels, beyond[i]!, p, q);
    const kl = smoothedDivergence(p, q, i);
    if (kl < bestKl) [best, bestKl] = [i, kl];
  }
  return best;
}
