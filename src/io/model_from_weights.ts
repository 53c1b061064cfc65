// Builds the AlexNet a state dict describes and loads the state dict into it. The architecture
// comes from --arch or is recognised from the keys and conv1's shape (torchvision
// 'features.0.weight' [64, C, 11, 11] → alexnet, [96, C, 11, 11] → alexnet-2012, 'conv.0.weight'
// → alexnet-v1); weights of another architecture than --arch names are refused with the right
// --arch. The class count, the input channels and (v1/2012) the input size that FC6's width
// implies are read from the weights — and, since they come from a file, checked before anything
// is allocated: bounded counts, and every key's shape equal to what the architecture implies, so
// the model is never larger than the data the file really holds.
import { DataError, UsageError } from '../errors.js';
import { createModel, type AlexNet, type ArchName } from '../models/index.js';
import { numel, shapeText } from '../shape.js';
import { valueCount } from './tensor_map.js';
import { loadTensorMap, stripWrapperPrefix, type Weights } from './state_dict.js';

/** Most input channels a weights file may claim (conv1's second dimension). */
export const MAX_IN_CHANNELS = 64;
/** Most classes a weights file may claim (the last layer's rows). */
export const MAX_CLASSES = 1_000_000;

type Shapes = [string, number[]][];

interface Layout {
  /** How the keys look, for messages. */
  description: string;
  first: string;
  fc6: string;
  last: string;
  /** Every key's shape for C input channels, N classes and FC6 input width F. */
  shapes(c: number, n: number, f: number): Shapes;
}

const conv = (key: string, out: number, inp: number, k: number): Shapes => [
  [`${key}.weight`, [out, inp, k, k]],
  [`${key}.bias`, [out]],
];
const fc = (key: string, out: number, inp: number): Shapes => [
  [`${key}.weight`, [out, inp]],
  [`${key}.bias`, [out]],
];

const LAYOUTS: Record<ArchName, Layout> = {
  alexnet: {
    description: "torchvision AlexNet weights ('features.*', 'classifier.*', 64 conv1 filters)",
    first: 'features.0.weight',
    fc6: 'classifier.1.weight',
    last: 'classifier.6.weight',
    shapes: (c, n) => [
      ...conv('features.0', 64, c, 11),
      ...conv('features.3', 192, 64, 5),
      ...conv('features.6', 384, 192, 3),
      ...conv('features.8', 256, 384, 3),
      ...conv('features.10', 256, 256, 3),
      ...fc('classifier.1', 4096, 256 * 6 * 6),
      ...fc('classifier.4', 4096, 4096),
      ...fc('classifier.6', n, 4096),
    ],
  },
  'alexnet-v1': {
    description: "one-tower AlexNet weights ('conv.*', 'fc_layer.*')",
    first: 'conv.0.weight',
    fc6: 'fc_layer.0.weight',
    last: 'fc_layer.6.weight',
    shapes: (c, n, f) => [
      ...conv('conv.0', 96, c, 11),
      ...conv('conv.3', 256, 96, 5),
      ...conv('conv.6', 384, 256, 3),
      ...conv('conv.8', 384, 384, 3),
      ...conv('conv.10', 256, 384, 3),
      ...fc('fc_layer.0', 4096, f),
      ...fc('fc_layer.3', 4096, 4096),
      ...fc('fc_layer.6', n, 4096),
    ],
  },
  'alexnet-2012': {
    description: "the paper's two-tower AlexNet weights ('features.*', 'classifier.*', 96 conv1 filters)",
    first: 'features.0.weight',
    fc6: 'classifier.0.weight',
    last: 'classifier.6.weight',
    shapes: (c, n, f) => [
      ...conv('features.0', 96, c, 11),
      ...conv('features.4', 256, 48, 5),
      ...conv('features.8', 384, 256, 3),
      ...conv('features.10', 384, 192, 3),
      ...conv('features.12', 256, 192, 3),
      ...fc('classifier.0', 4096, f),
      ...fc('classifier.3', 4096, 4096),
      ...fc('classifier.6', n, 4096),
    ],
  },
};

/** The state-dict keys and shapes of `arch` for C input channels, N classes and FC6 input width F. */
export function archShapes(arch: ArchName, c: number, n: number, f: number): Shapes {
  return LAYOUTS[arch].shapes(c, n, f);
}

/** The architecture a state dict belongs to, or null if it is none of the three. */
export function inferArch(tensors: Weights): ArchName | null {
  if (tensors.has('conv.0.weight') && tensors.has('fc_layer.6.weight')) return 'alexnet-v1';
  const conv1 = tensors.get('features.0.weight');
  if (!conv1) return null;
  if (conv1.shape[0] === 64 && tensors.has('classifier.1.weight')) return 'alexnet';
  if (conv1.shape[0] === 96 && tensors.has('classifier.0.weight')) return 'alexnet-2012';
  return null;
}

/** Throws a UsageError naming both architectures when `tensors` are recognisably weights of another one than `arch`. */
export function checkArch(tensors: Weights, arch: ArchName, source: string): void {
  const recognised = inferArch(tensors);
  if (recognised && recognised !== arch)
    throw new UsageError(`${source}: these are ${LAYOUTS[recognised].description}, not ${arch}: use --arch ${recognised}`);
}

/** FC6 input width of a v1/2012 model at input size s (conv arithmetic only; no weights built). */
function fc6Width(arch: ArchName, s: number): number {
  const conv = (x: number, k: number, st: number, p: number): number => Math.floor((x + 2 * p - k) / st) + 1;
  const pool = (x: number): number => Math.floor((x - 3) / 2) + 1;
  let x = arch === 'alexnet-v1' ? conv(s, 11, 4, 1) : conv(s, 11, 4, 0);
  x = pool(x);
  x = pool(x); // conv2 (5, pad 2) keeps the size
  x = pool(x); // conv3–5 (3, pad 1) keep the size
  return x > 0 ? 256 * x * x : -1;
}

/** The input size giving FC6's width: `hint` when it does, else the nearest to 227 (63 to 387). */
function inputSizeFor(arch: ArchName, fc6In: number, hint: number | undefined): number | undefined {
  if (hint !== undefined && fc6Width(arch, hint) === fc6In) return hint;
  const base = 227;
  for (let d = 0; d <= 160; d++) {
    for (const s of d === 0 ? [base] : [base + d, base - d]) {
      if (s >= 63 && fc6Width(arch, s) === fc6In) return s;
    }
  }
  return undefined;
}

export interface WeightsShape {
  arch: ArchName;
  inChannels: number;
  numClasses: number;
  inputSize: number;
}

export interface ModelFromWeightsOptions {
  /** The architecture asked for (--arch); weights of another one are a UsageError naming the right one. */
  arch?: ArchName;
  /** The file the weights came from, for messages. */
  source: string;
  /** The input size to prefer (model.json's): alexnet's cannot be read from the weights. */
  inputSize?: number;
}

function dimension(key: string, value: number | undefined, what: string, max: number, source: string): number {
  if (value === undefined || !Number.isSafeInteger(value) || value < 1 || value > max)
    throw new DataError(`${source}: '${key}' claims ${String(value)} ${what} (at most ${max})`);
  return value;
}

/**
 * The model a state dict (wrapper prefix already stripped) describes, checked without allocating:
 * the architecture, bounded channel and class counts, and every key present with the shape the
 * architecture implies, holding as many values as its shape says; no key left over.
 */
export function describeWeights(tensors: Weights, opts: ModelFromWeightsOptions): WeightsShape {
  const { source } = opts;
  const recognised = inferArch(tensors);
  if (opts.arch) checkArch(tensors, opts.arch, source);
  const arch = opts.arch ?? recognised;
  if (!arch) {
    const keys = [...tensors.keys()].slice(0, 3).map((k) => `'${k}'`);
    throw new UsageError(
      `${source}: cannot tell which AlexNet these weights belong to${keys.length ? ` (keys ${keys.join(', ')}…)` : ' (no tensors)'}; pass --arch alexnet|alexnet-v1|alexnet-2012`,
    );
  }
  const layout = LAYOUTS[arch];
  const first = tensors.get(layout.first);
  const last = tensors.get(layout.last);
  const fc6 = tensors.get(layout.fc6);
  if (!first || first.shape.length !== 4) throw new DataError(`${source}: not ${arch} weights (no 4-D '${layout.first}')`);
  if (!last || last.shape.length !== 2) throw new DataError(`${source}: not ${arch} weights (no 2-D '${layout.last}')`);
  if (!fc6 || fc6.shape.length !== 2) throw new DataError(`${source}: not ${arch} weights (no 2-D '${layout.fc6}')`);
  const inChannels = dimension(layout.first, first.shape[1], 'input channels', MAX_IN_CHANNELS, source);
  const numClasses = dimension(layout.last, last.shape[0], 'classes', MAX_CLASSES, source);
  const fc6In = fc6.shape[1] ?? 0;
  const expected = layout.shapes(inChannels, numClasses, fc6In);
  for (const [key, shape] of expected) {
    const t = tensors.get(key);
    if (!t) throw new DataError(`state dict in ${source} is missing key '${key}'`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
      throw new DataError(`state dict in ${source}: key '${key}' has shape ${shapeText(t.shape)}, the model expects ${shapeText(shape)}`);
    if (valueCount(t) !== numel(shape))
      throw new DataError(`${source}: '${key}' holds ${valueCount(t)} values for shape ${shapeText(shape)}`);
  }
  const known = new Set(expected.map(([k]) => k));
  const extra = [...tensors.keys()].filter((k) => !known.has(k));
  if (extra.length)
    throw new DataError(
      `state dict in ${source} has unexpected key '${extra[0]}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`,
    );
  const inputSize = arch === 'alexnet' ? (opts.inputSize ?? 224) : inputSizeFor(arch, fc6In, opts.inputSize);
  if (inputSize === undefined)
    throw new DataError(`${source}: '${layout.fc6}' takes ${fc6In} features, which no ${arch} input size from 63 to 387 gives`);
  return { arch, inChannels, numClasses, inputSize };
}

/**
 * Creates the model a state dict describes (eval mode) and loads the state dict into it. The
 * model is built without random initialisation (every value comes from the file), and the map is
 * emptied as its tensors are copied (lazy entries streamed), so that the file's values and the
 * model's parameters are not both held in full.
 */
export function modelFromWeights(fileTensors: Weights, opts: ModelFromWeightsOptions): AlexNet {
  const tensors = stripWrapperPrefix(fileTensors, new Set());
  const { arch, inChannels, numClasses, inputSize } = describeWeights(tensors, opts);
  const model = createModel(arch, { inChannels, numClasses, inputSize, init: 'none' });
  loadTensorMap(model, fileTensors, opts.source, { consume: true });
  return model.eval();
}
