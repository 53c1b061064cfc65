// Weights in and out of a run: reading a state dict from .pth / .safetensors / a training
// checkpoint, guessing the architecture from its keys, building the model for it, and writing the
// final weights as a .pth (torchvision-compatible keys) with a JSON sidecar that says how to use
// them (class names, input size, preprocessing).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, UsageError } from '../errors.js';
import { inferArch, modelFromWeights as modelFromTensors } from '../io/model_from_weights.js';
import { writePth } from '../io/pth/index.js';
import { readWeightsFile, stripWrapperPrefix } from '../io/weights.js';
import { createModel, type AlexNet, type ArchName } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { loadMeanImage, type MeanImage } from '../data/index.js';
import type { StoredTransform } from './data.js';
import { Tensor } from '../tensor.js';
import { readCheckpoint, type CheckpointTensor } from './checkpoint.js';

export type WeightMap = Map<string, CheckpointTensor>;

/** What a model file's sidecar (`model.json`) and a checkpoint say about the model. */
export interface ModelInfo {
  arch: ArchName;
  numClasses: number;
  inChannels: number;
  inputSize: number;
  classes: string[];
  /** Preprocessing for evaluation and prediction (plain data; no mean-image transform). */
  evalTransforms: StoredTransform[];
  /** Per-pixel mean image [C, H, W] to subtract, when the recipe uses one (paper). */
  meanImage?: { file: string; shape: [number, number, number] };
  dataset?: string;
}

const MODEL_PREFIX = 'model/';

/** Reads the model weights of a .pth, .safetensors or .ckpt (training checkpoint) file. */
export function readWeights(path: string): { weights: WeightMap; info: Partial<ModelInfo> | null; meanImage?: MeanImage } {
  if (!existsSync(path)) throw new DataError(`${path}: no such weights file`);
  const head = readFileSync(path).subarray(0, 8).toString('latin1');
  if (head === 'ALXCKPT1') {
    const ck = readCheckpoint<{ model: ModelInfo }>(path);
    const weights: WeightMap = new Map();
    for (const [k, t] of ck.tensors) if (k.startsWith(MODEL_PREFIX)) weights.set(k.slice(MODEL_PREFIX.length), t);
    const m = ck.tensors.get('norm/mean_image');
    const meanImage = m ? { data: m.data, shape: [m.shape[0], m.shape[1], m.shape[2]] as [number, number, number] } : undefined;
    return { weights, info: ck.meta.model, meanImage };
  }
  const map = stripWrapperPrefix(readWeightsFile(path), new Set());
  const weights: WeightMap = new Map();
  for (const [k, t] of map) weights.set(k, { shape: t.shape, data: t.data });
  return { weights, info: readSidecar(path) };
}

/** `<weights>.json` next to the weights file, or null. */
export function sidecarPath(weightsPath: string): string {
  return join(dirname(weightsPath), basename(weightsPath).replace(/\.(pth|pt|safetensors)$/, '') + '.json');
}

function readSidecar(weightsPath: string): Partial<ModelInfo> | null {
  const p = sidecarPath(weightsPath);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Partial<ModelInfo>;
  } catch (err) {
    throw new DataError(`${p}: unreadable model description (${(err as Error).message})`);
  }
}

const FIRST_CONV: Record<ArchName, string> = {
  alexnet: 'features.0.weight',
  'alexnet-v1': 'conv.0.weight',
  'alexnet-2012': 'features.0.weight',
};
const LAST: Record<ArchName, string> = { alexnet: 'classifier.6', 'alexnet-v1': 'fc_layer.6', 'alexnet-2012': 'classifier.6' };

/** The state-dict prefix of the last (class) layer: 'classifier.6' or 'fc_layer.6'. */
export function lastLayerPrefix(arch: ArchName): string {
  return LAST[arch];
}

/** Input channels (conv1) and classes (last layer) of `arch` weights. */
export function shapeFromWeights(arch: ArchName, weights: WeightMap, where: string): { inChannels: number; numClasses: number } {
  const conv1 = weights.get(FIRST_CONV[arch]);
  const last = weights.get(`${LAST[arch]}.weight`);
  if (!conv1 || conv1.shape.length !== 4) throw new DataError(`${where}: not ${arch} weights (no 4-D '${FIRST_CONV[arch]}')`);
  if (!last || last.shape.length !== 2) throw new DataError(`${where}: not ${arch} weights (no 2-D '${LAST[arch]}.weight')`);
  return { inChannels: conv1.shape[1], numClasses: last.shape[0] };
}

/** Copies weights into a model; errors name the key and both shapes. */
export function loadInto(model: Module, weights: WeightMap, where: string, opts: { skipPrefix?: string } = {}): void {
  const state = new Map<string, Tensor>();
  for (const [k, t] of weights) {
    if (opts.skipPrefix && k.startsWith(opts.skipPrefix + '.')) continue;
    state.set(k, Tensor.fromArray(t.data, t.shape));
  }
  try {
    const own = model.stateDict();
    if (opts.skipPrefix) for (const k of own.keys()) if (k.startsWith(opts.skipPrefix + '.') && !state.has(k)) state.set(k, own.get(k)!);
    model.loadStateDict(state, { strict: true, source: where });
  } finally {
    for (const t of state.values()) if (!model.parameters().includes(t)) t.dispose();
  }
}

/**
 * Builds a model for a weights file and loads it: the shape from the checkpoint or the model.json
 * sidecar when there is one, else recognised from the keys and shapes (src/io/model_from_weights).
 */
export function modelFromWeights(path: string, arch?: ArchName): { model: AlexNet; info: ModelInfo; meanImage?: MeanImage } {
  const { weights, info, meanImage: fromCheckpoint } = readWeights(path);
  if (info?.arch && arch && info.arch !== arch)
    throw new UsageError(`--arch ${arch} does not match ${path}, which holds ${info.arch} weights`);
  let model: AlexNet;
  if (info?.arch && info.inChannels && info.numClasses && info.inputSize) {
    model = createModel(info.arch, { inChannels: info.inChannels, numClasses: info.numClasses, inputSize: info.inputSize });
    loadInto(model, weights, path);
    model.eval();
  } else {
    const tensors = new Map([...weights].map(([k, t]) => [k, { shape: t.shape, data: t.data, sourceDType: 'float32' }]));
    model = modelFromTensors(tensors, { arch: arch ?? inferArch(tensors) ?? undefined, source: path });
  }
  const full: ModelInfo = {
    arch: model.arch,
    numClasses: model.numClasses,
    inChannels: model.inputShape[0],
    inputSize: model.inputShape[1],
    classes: info?.classes ?? [],
    evalTransforms: info?.evalTransforms ?? [],
    meanImage: info?.meanImage,
    dataset: info?.dataset,
  };
  const meanImage = fromCheckpoint ?? (full.meanImage ? loadMeanImage(join(dirname(path), full.meanImage.file)) : undefined);
  return { model, info: full, meanImage };
}

/** The model's parameters as plain arrays, keyed by state-dict name. */
export function modelWeights(model: Module): WeightMap {
  const out: WeightMap = new Map();
  for (const [k, p] of model.stateDict()) {
    const a = p.toArray();
    out.set(k, { shape: [...p.shape], data: a instanceof Float32Array ? a : Float32Array.from(a) });
  }
  return out;
}

/** Writes `model.pth` (loadable by torch.load(weights_only=True)) and its `model.json` sidecar. */
export function saveFinalWeights(path: string, model: Module, info: ModelInfo): void {
  writePth(path, modelWeights(model));
  writeFileSync(sidecarPath(path), JSON.stringify(info, null, 2) + '\n');
}
