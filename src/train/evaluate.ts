// Evaluation: forward passes without autograd over a loader's batches; top-1/top-5 accuracy,
// mean cross-entropy, a confusion matrix. With ten crops (batch x [N, 10, C, H, W]) the softmax
// of the ten is averaged per image, as the paper tested.
import type { DataLoader } from '../data/index.js';
import type { Module } from '../nn/module.js';
import { ShapeError } from '../errors.js';
import { noGrad, shapeText, Tensor, tidy } from '../tensor.js';
import { ConfusionMatrix, softmaxRows, topkIndices } from './metrics.js';

export interface EvalResult {
  count: number;
  top1: number;
  top5: number;
  loss: number;
  confusion: ConfusionMatrix;
}

/** Class probabilities [N, C] for a batch (averaging crops when x is [N, crops, C, H, W]). */
export function predictProbabilities(
  model: Module,
  x: Float32Array,
  shape: readonly number[],
): { probs: Float64Array; n: number; c: number } {
  if (shape.length !== 4 && shape.length !== 5)
    throw new ShapeError(`predictProbabilities: expected a batch [N, C, H, W] or [N, crops, C, H, W], got ${shapeText(shape)}`);
  const n = shape[0] ?? 0;
  const crops = shape.length === 5 ? (shape[1] ?? 1) : 1;
  const inShape = shape.length === 5 ? [n * crops, ...shape.slice(2)] : [...shape];
  const logits = noGrad(() =>
    tidy(() => {
      const y = model.forward(Tensor.fromArray(x, inShape));
      return { data: y.toArray(), c: y.shape[1] ?? 0 };
    }),
  );
  return probabilitiesFromLogits(logits.data, n, crops, logits.c);
}

/** Softmax of logits [N·crops, C], averaged over each image's crops: probabilities [N, C]. */
export function probabilitiesFromLogits(
  logits: ArrayLike<number>,
  n: number,
  crops: number,
  c: number,
): { probs: Float64Array; n: number; c: number } {
  const p = softmaxRows(logits, n * crops, c);
  if (crops === 1) return { probs: p, n, c };
  const avg = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < crops; k++) {
      const row = (i * crops + k) * c;
      for (let j = 0; j < c; j++) avg[i * c + j]! += p[row + j]! / crops;
    }
  }
  return { probs: avg, n, c };
}

export async function evaluate(
  model: Module,
  loader: DataLoader,
  classes: readonly string[],
  opts: { epoch?: number; shouldStop?: () => boolean; onBatch?: (done: number, total: number) => void; labelMap?: Int32Array } = {},
): Promise<EvalResult | null> {
  const wasTraining = model.training;
  model.eval();
  const confusion = new ConfusionMatrix(classes);
  let count = 0;
  let top1 = 0;
  let top5 = 0;
  let lossSum = 0;
  try {
    let done = 0;
    for await (const b of loader.iterate(opts.epoch ?? 0)) {
      const { probs, n, c } = predictProbabilities(model, b.x, b.shape);
      for (let i = 0; i < n; i++) {
        // Indices in range by construction: i < n = the batch's labels, labelMap covers every data class.
        const label = opts.labelMap ? opts.labelMap[b.y[i]!]! : b.y[i]!;
        const best = topkIndices(probs, i, c, 5);
        const top = best[0] ?? -1;
        if (top === label) top1++;
        if (best.includes(label)) top5++;
        if (label < classes.length && top >= 0 && top < classes.length) confusion.add(label, top);
        lossSum += -Math.log(Math.max(probs[i * c + label] ?? 0, 1e-45));
      }
      count += n;
      opts.onBatch?.(++done, loader.numBatches);
      await new Promise((next) => setImmediate(next)); // let a signal's handler run (see event_loop.ts)
      if (opts.shouldStop?.()) return null;
    }
  } finally {
    model.train(wasTraining);
  }
  return { count, top1: count ? top1 / count : 0, top5: count ? top5 / count : 0, loss: count ? lossSum / count : NaN, confusion };
}
