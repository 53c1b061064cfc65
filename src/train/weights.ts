// Weights in and out of a run: reading a state dict from .pth / .safetensors / a training
// checkpoint with its model description (model.json or the checkpoint's meta, checked by
// model_json.ts), building the model for it (src/io/model_from_weights, the one place that
// recognises and checks architectures), and writing the final weights as a .pth
// (torchvision-compatible keys) with a JSON sidecar that says how to use them (class names, input
// size, preprocessing).
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError, UsageError } from '../errors.js';
import { describeWeights, modelFromWeights as modelFromTensors } from '../io/model_from_weights.js';
import { encodePth } from '../io/pth/index.js';
import { loadTensorMap, readWeightsFile, stripWrapperPrefix } from '../io/weights.js';
import { writeFileAtomic } from '../io/write_atomic.js';
import type { AlexNet, ArchName } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { loadMeanImage, type MeanImage } from '../data/index.js';
import type { StoredTransform } from './data.js';
import { readCheckpoint, type CheckpointTensor } from './checkpoint.js';
import { parseModelInfo } from './model_json.js';

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

/** The first 8 bytes of a file (a checkpoint starts with its magic). */
function magic(path: string): string {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const b = Buffer.alloc(8);
    return b.subarray(0, readSync(fd, b, 0, 8, 0)).toString('latin1');
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** What readWeights found: the state dict, and the model description with where it came from. */
export interface ReadWeights {
  weights: WeightMap;
  info: Partial<ModelInfo> | null;
  /** The file (or checkpoint field) `info` came from, for messages. */
  infoSource: string;
  meanImage?: MeanImage;
}

/** Reads the model weights of a .pth, .safetensors or .ckpt (training checkpoint) file. */
export function readWeights(path: string): ReadWeights {
  if (!existsSync(path)) throw new DataError(`${path}: no such weights file`);
  if (magic(path) === 'ALXCKPT1') {
    const ck = readCheckpoint<Record<string, unknown>>(path);
    const weights: WeightMap = new Map();
    for (const [k, t] of ck.tensors) if (k.startsWith(MODEL_PREFIX)) weights.set(k.slice(MODEL_PREFIX.length), t);
    const infoSource = `${path} (checkpoint meta.model)`;
    const info = ck.meta.model === undefined ? null : parseModelInfo(ck.meta.model, infoSource, dirname(path));
    const m = ck.tensors.get('norm/mean_image');
    let meanImage: MeanImage | undefined;
    if (m) {
      const [c, h, w] = m.shape;
      if (m.shape.length !== 3 || !c || !h || !w)
        throw new DataError(`${path}: 'norm/mean_image' must be [C, H, W], got [${m.shape.join(', ')}]`);
      meanImage = { data: m.data, shape: [c, h, w] };
    }
    return { weights, info, infoSource, meanImage };
  }
  const weights: WeightMap = stripWrapperPrefix(readWeightsFile(path), new Set());
  const infoSource = sidecarPath(path);
  return { weights, info: readSidecar(infoSource, dirname(path)), infoSource };
}

/** `<weights>.json` next to the weights file. */
export function sidecarPath(weightsPath: string): string {
  return join(dirname(weightsPath), basename(weightsPath).replace(/\.(pth|pt|safetensors)$/, '') + '.json');
}

/** A model.json larger than this is refused unread (a million class names fit in a few tens of MB). */
const MAX_SIDECAR_BYTES = 64 << 20;

function readSidecar(p: string, dir: string): Partial<ModelInfo> | null {
  if (!existsSync(p)) return null;
  let value: unknown;
  try {
    if (statSync(p).size > MAX_SIDECAR_BYTES) throw new Error(`larger than ${MAX_SIDECAR_BYTES >> 20} MiB`);
    value = JSON.parse(readFileSync(p, 'utf8'));
  } catch (err) {
    throw new DataError(`${p}: unreadable model description (${(err as Error).message})`);
  }
  return parseModelInfo(value, p, dir);
}

const LAST: Record<ArchName, string> = { alexnet: 'classifier.6', 'alexnet-v1': 'fc_layer.6', 'alexnet-2012': 'classifier.6' };

/** The state-dict prefix of the last (class) layer: 'classifier.6' or 'fc_layer.6'. */
export function lastLayerPrefix(arch: ArchName): string {
  return LAST[arch];
}

/**
 * Input channels (conv1) and classes (last layer) of `arch` weights, every key checked against
 * the architecture; weights of another architecture name the --arch they need.
 */
export function shapeFromWeights(arch: ArchName, weights: WeightMap, where: string): { inChannels: number; numClasses: number } {
  const { inChannels, numClasses } = describeWeights(weights, { arch, source: where });
  return { inChannels, numClasses };
}

/** Copies weights into a model, one tensor at a time; errors name the key and both shapes. */
export function loadInto(model: Module, weights: WeightMap, where: string, opts: { skipPrefix?: string } = {}): void {
  loadTensorMap(model, weights, where, opts);
}

/**
 * Builds a model for a weights file and loads it: the architecture from --arch, the description
 * (checkpoint or model.json) or the keys; the sizes from the weights, checked against the
 * description. The file's tensors are dropped as they are copied into the model.
 */
export function modelFromWeights(path: string, arch?: ArchName): { model: AlexNet; info: ModelInfo; meanImage?: MeanImage } {
  const { weights, info, infoSource, meanImage: fromCheckpoint } = readWeights(path);
  if (info?.arch && arch && info.arch !== arch)
    throw new UsageError(`--arch ${arch} does not match ${path}, which holds ${info.arch} weights (${infoSource})`);
  const opts = { arch: arch ?? info?.arch, source: path, inputSize: info?.inputSize };
  const shape = describeWeights(weights, opts);
  if (info?.numClasses !== undefined && info.numClasses !== shape.numClasses)
    throw new DataError(`${infoSource}: numClasses ${info.numClasses}, but the weights have ${shape.numClasses} classes`);
  if (info?.inChannels !== undefined && info.inChannels !== shape.inChannels)
    throw new DataError(`${infoSource}: inChannels ${info.inChannels}, but the weights take ${shape.inChannels} channels`);
  if (info?.inputSize !== undefined && info.inputSize !== shape.inputSize)
    throw new DataError(`${infoSource}: inputSize ${info.inputSize}, but the weights are for ${shape.inputSize}×${shape.inputSize} inputs`);
  const model = modelFromTensors(weights, opts);
  const full: ModelInfo = {
    arch: model.arch,
    numClasses: model.numClasses,
    inChannels: shape.inChannels,
    inputSize: shape.inputSize,
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

/** Writes `model.pth` (loadable by torch.load(weights_only=True)) and its `model.json` sidecar, atomically. */
export function saveFinalWeights(path: string, model: Module, info: ModelInfo): void {
  writeFileAtomic(path, encodePth(modelWeights(model)));
  writeFileAtomic(sidecarPath(path), [Buffer.from(JSON.stringify(info, null, 2) + '\n')]);
}
