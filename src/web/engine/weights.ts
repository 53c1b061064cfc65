// A model from weights bytes in the page: a PyTorch .pth (zip or legacy) or a .safetensors file,
// recognised by its first bytes, checked and loaded by the library's own readers, the values
// streamed from the bytes into the parameters (src/io/web_weights.ts, model_from_weights.ts). An
// int8 model file (`alexnet quantize`) loads through the platform-neutral int8 loader
// (src/quant/neutral.ts), dequantized to f32 (its int8 kernels run only natively), and says so
// in its source label. Weights of another architecture than the one chosen get a message
// naming both; random weights are the architecture's own initialisation.
import { UsageError } from '../../errors.js';
import { inferArch, modelFromWeights } from '../../io/model_from_weights.js';
import { stripWrapperPrefix } from '../../io/state_dict.js';
import { tensorsToLoad } from '../../io/web_weights.js';
import { createModel } from '../../models/alexnet.js';
import type { AlexNet, ArchName } from '../../models/alexnet_base.js';
import { dequantize, isQuantizedBytes, readQuantizedBytes } from '../../quant/neutral.js';
import { Generator } from '../../random.js';

/** The default input size of each architecture (torchvision's 224, the paper's 227). */
export const INPUT_SIZE: Record<ArchName, number> = { alexnet: 224, 'alexnet-v1': 227, 'alexnet-2012': 227 };

/** A model and the label the page shows for where it came from. */
export interface LoadedModel {
  model: AlexNet;
  source: string;
}

/** The model `bytes` describe, which must be an `arch`: f32 weights, or an int8 model dequantized to f32. */
export function modelFromBytes(bytes: Uint8Array, name: string, arch: ArchName): LoadedModel {
  if (isQuantizedBytes(bytes)) {
    const q = readQuantizedBytes(bytes, name);
    checkArch(q.arch, arch, name);
    return { model: dequantize(q, name), source: `${name} (int8 model, dequantized to f32)` };
  }
  const tensors = tensorsToLoad(bytes, name);
  checkArch(inferArch(stripWrapperPrefix(tensors, new Set())), arch, name);
  return { model: modelFromWeights(tensors, { arch, source: name }), source: name };
}

function checkArch(found: ArchName | null | undefined, arch: ArchName, name: string): void {
  if (found && found !== arch)
    throw new UsageError(`${name} holds ${found} weights, not ${arch}: choose ${found} as the architecture and load it again`);
}

/** A freshly initialised `arch` (1000 classes, 3 channels) from a seed. */
export function randomModel(arch: ArchName, seed: number): AlexNet {
  return createModel(arch, { inputSize: INPUT_SIZE[arch], rng: new Generator(seed) }).eval();
}
