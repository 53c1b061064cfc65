// A model from weights bytes in the page: a PyTorch .pth (zip or legacy) or a .safetensors file,
// recognised by its first bytes, checked and loaded by the library's own readers, the values
// streamed from the bytes into the parameters (src/io/web_weights.ts, model_from_weights.ts). Weights of another architecture than the one chosen get a message
// naming both; random weights are the architecture's own initialisation.
import { UsageError } from '../../errors.js';
import { inferArch, modelFromWeights } from '../../io/model_from_weights.js';
import { stripWrapperPrefix } from '../../io/state_dict.js';
import { tensorsToLoad } from '../../io/web_weights.js';
import { createModel } from '../../models/alexnet.js';
import type { AlexNet, ArchName } from '../../models/alexnet_base.js';
import { Generator } from '../../random.js';

/** The default input size of each architecture (torchvision's 224, the paper's 227). */
export const INPUT_SIZE: Record<ArchName, number> = { alexnet: 224, 'alexnet-v1': 227, 'alexnet-2012': 227 };

/** The model `bytes` describe, which must be an `arch`. */
export function modelFromBytes(bytes: Uint8Array, name: string, arch: ArchName): AlexNet {
  const tensors = tensorsToLoad(bytes, name);
  const found = inferArch(stripWrapperPrefix(tensors, new Set()));
  if (found && found !== arch)
    throw new UsageError(`${name} holds ${found} weights, not ${arch}: choose ${found} as the architecture and load it again`);
  return modelFromWeights(tensors, { arch, source: name });
}

/** A freshly initialised `arch` (1000 classes, 3 channels) from a seed. */
export function randomModel(arch: ArchName, seed: number): AlexNet {
  return createModel(arch, { inputSize: INPUT_SIZE[arch], rng: new Generator(seed) }).eval();
}
