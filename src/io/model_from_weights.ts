// Builds the AlexNet a weights file describes and loads the file into it: the architecture
// comes from --arch or is recognised from the state-dict keys and conv1's shape (torchvision
// 'features.0.weight' [64, C, 11, 11] → alexnet, [96, C, 11, 11] → alexnet-2012, 'conv.0.weight'
// → alexnet-v1); the class count, input channels and (v1/2012) the input size that FC6's width
// implies are read from the weights, so fine-tuned files load without extra flags.
import { DataError, UsageError } from '../errors.js';
import { createModel, type AlexNet, type ArchName } from '../models/index.js';
import type { TensorMap } from './tensor_map.js';
import { loadTensorMap, stripWrapperPrefix } from './weights.js';

const LAYOUT: Record<ArchName, { first: string; last: string; fc6: string }> = {
  alexnet: { first: 'features.0.weight', last: 'classifier.6.weight', fc6: 'classifier.1.weight' },
  'alexnet-v1': { first: 'conv.0.weight', last: 'fc_layer.6.weight', fc6: 'fc_layer.0.weight' },
  'alexnet-2012': { first: 'features.0.weight', last: 'classifier.6.weight', fc6: 'classifier.0.weight' },
};

/** The architecture a state dict belongs to, or null if it is none of the three. */
export function inferArch(tensors: TensorMap): ArchName | null {
  if (tensors.has('conv.0.weight') && tensors.has('fc_layer.6.weight')) return 'alexnet-v1';
  const conv1 = tensors.get('features.0.weight');
  if (!conv1) return null;
  if (conv1.shape[0] === 64 && tensors.has('classifier.1.weight')) return 'alexnet';
  if (conv1.shape[0] === 96 && tensors.has('classifier.0.weight')) return 'alexnet-2012';
  return null;
}

/** Smallest square input (from the architecture's default upward, then downward) whose features give FC6's width. */
function inputSizeFor(arch: ArchName, inChannels: number, fc6In: number): number | undefined {
  if (arch === 'alexnet') return undefined;
  const base = 227;
  for (let d = 0; d <= 160; d++) {
    for (const s of d === 0 ? [base] : [base + d, base - d]) {
      if (s >= 63 && fc6Width(arch, inChannels, s) === fc6In) return s;
    }
  }
  return undefined;
}

/** FC6 input width of a v1/2012 model at input size s (conv arithmetic only; no weights built). */
function fc6Width(arch: ArchName, _inChannels: number, s: number): number {
  const conv = (x: number, k: number, st: number, p: number): number => Math.floor((x + 2 * p - k) / st) + 1;
  const pool = (x: number): number => Math.floor((x - 3) / 2) + 1;
  let x = arch === 'alexnet-v1' ? conv(s, 11, 4, 1) : conv(s, 11, 4, 0);
  x = pool(x);
  x = pool(x); // conv2 (5, pad 2) keeps the size
  x = pool(x); // conv3–5 (3, pad 1) keep the size
  return x > 0 ? 256 * x * x : -1;
}

export interface ModelFromWeightsOptions {
  arch?: ArchName;
  source: string;
}

/** Creates the model a state dict describes (eval mode) and loads the state dict into it. */
export function modelFromWeights(fileTensors: TensorMap, opts: ModelFromWeightsOptions): AlexNet {
  const tensors = stripWrapperPrefix(fileTensors, new Set());
  const arch = opts.arch ?? inferArch(tensors);
  if (!arch)
    throw new UsageError(`${opts.source}: cannot tell which AlexNet these weights belong to; pass --arch alexnet|alexnet-v1|alexnet-2012`);
  const layout = LAYOUT[arch];
  const first = tensors.get(layout.first);
  const last = tensors.get(layout.last);
  const fc6 = tensors.get(layout.fc6);
  if (!first || first.shape.length !== 4) throw new DataError(`${opts.source}: no 4-D '${layout.first}' for ${arch}`);
  if (!last || last.shape.length !== 2) throw new DataError(`${opts.source}: no 2-D '${layout.last}' for ${arch}`);
  if (!fc6 || fc6.shape.length !== 2) throw new DataError(`${opts.source}: no 2-D '${layout.fc6}' for ${arch}`);
  const inChannels = first.shape[1];
  const numClasses = last.shape[0];
  const inputSize = inputSizeFor(arch, inChannels, fc6.shape[1]);
  const model = createModel(arch, { inChannels, numClasses, inputSize, init: 'pytorch' });
  loadTensorMap(model, tensors, opts.source);
  return model.eval();
}
