// The model a server answers with: loaded from weights once (the one function that does it, as
// `alexnet predict` does), its class names and preprocessing, a warm-up, and a batch of decoded
// images → class probabilities, the forward pass running off the event loop (Backend.runAsync).
import type { TransformSpec } from '../data/index.js';
import { DataError } from '../errors.js';
import type { ArchName } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { noGrad, Tensor, tidy } from '../tensor.js';
import { materialize } from '../train/data.js';
import { probabilitiesFromLogits } from '../train/evaluate.js';
import { classNamesFor, evalTransformsFor } from '../train/predict.js';
import { type ModelInfo } from '../train/weights.js';
import { Int8AlexNet } from '../quant/int8_model.js';
import { loadModelFile } from '../quant/load.js';
import type { DecodedInput } from './decode_pool.js';

export interface ServedModel {
  model: Module;
  info: ModelInfo;
  /** A name per output class. */
  classes: string[];
  /** The evaluation preprocessing, as plain data for the decode workers. */
  transforms: TransformSpec[];
  /** The weights it was loaded from (for /readyz and logs). */
  source: string;
}

/** Loads the weights at `weights` (.pth, .safetensors or a checkpoint) for serving. */
export function loadServedModel(weights: string, arch?: ArchName): ServedModel {
  const { model, info, meanImage } = loadModelFile(weights, arch);
  const transforms = materialize(
    evalTransformsFor(info),
    () => {
      throw new DataError(`${weights}: this model subtracts a mean image, but none was found next to its weights (mean_image.npy)`);
    },
    meanImage,
  );
  return { model, info, classes: classNamesFor(info), transforms, source: weights };
}

/**
 * The array a model's batches are assembled in, kept from batch to batch: a fresh one each time
 * (up to 19 MB at batch 32) cost page faults and, with the decoded images, frequent garbage
 * collections. The backend copies it (Tensor.fromArray), so the next batch may overwrite it.
 */
const staging = new WeakMap<ServedModel, Float32Array>();

function stagingFor(served: ServedModel, floats: number): Float32Array {
  let buf = staging.get(served);
  if (!buf || buf.length < floats) {
    buf = new Float32Array(floats);
    staging.set(served, buf);
  }
  return buf.subarray(0, floats);
}

/**
 * Each model's forward passes, one after another: a batch may assemble its input while the one
 * before it computes, but its pass (and the native read-back, which waits for any pass under way)
 * starts only when that one's results are read.
 */
const turns = new WeakMap<ServedModel, Promise<void>>();

/**
 * One probability row per input (crops averaged), computed by one forward pass of the whole batch.
 * The input is assembled at once (before the first await); `onForward` is told when the pass starts.
 */
export async function predictBatch(
  served: ServedModel,
  inputs: readonly Pick<DecodedInput, 'x' | 'shape'>[],
  onForward?: () => void,
): Promise<Float64Array[]> {
  const [first] = inputs;
  if (!first) return [];
  const n = inputs.length;
  const per = first.x.length;
  const x = stagingFor(served, n * per);
  inputs.forEach((d, i) => {
    if (d.x.length !== per) throw new Error(`predictBatch: input ${i} holds ${d.x.length} values, the first ${per}`);
    x.set(d.x, i * per);
  });
  // [crops, C, H, W] inputs go through the model as n·crops images.
  const crops = first.shape.length === 4 ? (first.shape[0] ?? 1) : 1;
  const imageShape = first.shape.slice(-3);
  const input = Tensor.fromArray(x, [n * crops, ...imageShape]);
  const previous = turns.get(served);
  let done!: () => void;
  turns.set(served, new Promise<void>((resolve) => (done = resolve)));
  let logits: ArrayLike<number>;
  try {
    await previous;
    onForward?.();
    // Module.forwardAsync with a tidy inside: the intermediate activations are freed at once
    // rather than when the garbage collector finds them.
    // An int8 model runs its own network on the libuv pool (Int8AlexNet.forwardAsync).
    const y =
      served.model instanceof Int8AlexNet
        ? await served.model.forwardAsync(input)
        : await input.backend.runAsync(() => noGrad(() => tidy(() => served.model.forward(input))));
    try {
      logits = y.toArray();
    } finally {
      y.dispose();
    }
  } finally {
    input.dispose();
    done(); // the next batch's pass may start; the softmax below runs meanwhile
  }
  const c = served.info.numClasses;
  const { probs } = probabilitiesFromLogits(logits, n, crops, c);
  return Array.from({ length: n }, (_, i) => probs.subarray(i * c, (i + 1) * c));
}

/** Runs a zero batch of each size in `sizes` once, so the first requests find the primitives made. */
export async function warmUp(served: ServedModel, sizes: readonly number[]): Promise<void> {
  const { inChannels, inputSize } = served.info;
  const shape = [inChannels, inputSize, inputSize];
  const one = { x: new Float32Array(inChannels * inputSize * inputSize), shape };
  for (const size of sizes)
    await predictBatch(
      served,
      Array.from({ length: size }, () => one),
    );
}
