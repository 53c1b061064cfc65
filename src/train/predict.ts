// Classifying images with a trained or downloaded model: class names (ImageNet's 1000 shipped in
// data/imagenet_classes.json, else the model's own), preprocessing an image file the way the model
// was evaluated (or taking an already preprocessed .npy tensor), and top-k probabilities.
import { readFileSync } from 'node:fs';
import {
  applyTransforms,
  decodeImageFile,
  torchvisionPreset,
  type MeanImage,
  type Pixels,
  type TransformSpec,
  type U8Image,
} from '../data/index.js';
import { DataError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import type { Module } from '../nn/module.js';
import { Generator } from '../random.js';
import { materialize, type StoredTransform } from './data.js';
import { predictProbabilities } from './evaluate.js';
import { topkIndices } from './metrics.js';
import type { ModelInfo } from './weights.js';

let imagenet: string[] | null = null;

/** ImageNet's 1000 class names in torchvision's class-index order (shipped with the package). */
export function imagenetClasses(): string[] {
  if (!imagenet) {
    const url = new URL('../../../data/imagenet_classes.json', import.meta.url);
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { classes: string[] };
    if (!Array.isArray(parsed.classes) || parsed.classes.length !== 1000) throw new Error(`${url.pathname}: expected 1000 class names`);
    imagenet = parsed.classes;
  }
  return imagenet;
}

/** Names for the model's outputs: its own (checkpoint, model.json), ImageNet's for 1000 classes, else the indices. */
export function classNamesFor(info: ModelInfo): string[] {
  if (info.classes.length === info.numClasses) return info.classes;
  if (info.numClasses === 1000) return imagenetClasses();
  return Array.from({ length: info.numClasses }, (_, i) => String(i));
}

/** The evaluation preprocessing of a model: its stored list, or torchvision's for its input size. */
export function evalTransformsFor(info: ModelInfo): StoredTransform[] {
  if (info.evalTransforms.length) return info.evalTransforms;
  const gray = info.inChannels === 1;
  return torchvisionPreset('eval', {
    size: info.inputSize,
    resize: Math.max(256, Math.round((info.inputSize * 256) / 224)),
    mean: gray ? [0.449] : undefined,
    std: gray ? [0.226] : undefined,
  }) as StoredTransform[];
}

export interface Prediction {
  index: number;
  class: string;
  probability: number;
}

/** A model input [1, C, H, W] from an image file, or from a .npy holding a preprocessed [C, H, W] / [1, C, H, W] tensor. */
export async function loadInput(path: string, info: ModelInfo, transforms: TransformSpec[]): Promise<{ x: Float32Array; shape: number[] }> {
  const c = info.inChannels;
  if (path.endsWith('.npy')) {
    const arr = readNpy(path);
    const shape = arr.shape.length === 3 ? [1, ...arr.shape] : arr.shape;
    if (shape.length !== 4 || shape[0] !== 1 || shape[1] !== c)
      throw new DataError(`${path}: expected a preprocessed tensor [${c}, H, W] or [1, ${c}, H, W], got [${arr.shape.join(', ')}]`);
    if (arr.dtype !== 'float32' && arr.dtype !== 'float64') throw new DataError(`${path}: expected float32 values, got ${arr.dtype}`);
    return { x: Float32Array.from(arr.data as ArrayLike<number>), shape };
  }
  const img = await decodeImageFile(path, { channels: c === 1 ? 1 : 3 });
  return inputFromPixels(img, path, info, transforms);
}

/**
 * A model input [1, C, H, W] (or [1, crops, C, H, W]) from decoded pixels; `name` is for errors
 * (the server's decoder uses it too). `into`, when it has exactly the input's size, receives the
 * values and is returned as `x` (the server's shared memory); otherwise `x` is a new array.
 */
export function inputFromPixels(
  img: U8Image,
  name: string,
  info: ModelInfo,
  transforms: TransformSpec[],
  into?: Float32Array,
): { x: Float32Array; shape: number[] } {
  const s = info.inputSize;
  const out = atPath(name, () => applyTransforms(transforms, img, new Generator(0), into));
  const list: Pixels[] = Array.isArray(out) ? out : [out];
  const [first] = list;
  if (!first || first.kind !== 'f32') throw new DataError(`${name}: the preprocessing does not end in a tensor`);
  if (first.height !== s || first.width !== s)
    throw new DataError(`${name}: preprocessed to ${first.height}×${first.width}, the model takes ${s}×${s}`);
  const size = list.length * first.data.length;
  const x = into && into.length === size ? into : new Float32Array(size);
  list.forEach((p, i) => {
    if (p.data !== x) x.set(p.data, i * first.data.length);
  });
  return { x, shape: list.length > 1 ? [1, list.length, first.channels, s, s] : [1, first.channels, s, s] };
}

/** `fn()`, with a data error it throws (an image too large to resize, say) naming the file. */
function atPath<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof DataError && !err.message.includes(path)) throw new DataError(`${path}: ${err.message}`);
    throw err;
  }
}

/** The `topk` most probable classes of row `row` of probabilities [N, c], most probable first. */
export function topPredictions(probs: Float64Array, row: number, c: number, topk: number, names: readonly string[]): Prediction[] {
  return topkIndices(probs, row, c, topk).map((k) => ({ index: k, class: names[k] ?? String(k), probability: probs[row * c + k] ?? 0 }));
}

/** Top-k predictions for each input file. */
export async function predictFiles(
  model: Module,
  info: ModelInfo,
  files: string[],
  topk: number,
  opts: { meanImage?: MeanImage } = {},
): Promise<{ image: string; predictions: Prediction[] }[]> {
  const names = classNamesFor(info);
  const stored = evalTransformsFor(info);
  const transforms = materialize(
    stored,
    () => {
      throw new DataError('this model subtracts a mean image, but none was found next to its weights (mean_image.npy)');
    },
    opts.meanImage,
  );
  const results: { image: string; predictions: Prediction[] }[] = [];
  for (const file of files) {
    const { x, shape } = await loadInput(file, info, transforms);
    const { probs, c } = predictProbabilities(model, x, shape);
    results.push({ image: file, predictions: topPredictions(probs, 0, c, topk, names) });
  }
  return results;
}
