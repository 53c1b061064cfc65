// A model from weights bytes in the page: a PyTorch .pth (zip or legacy) or a .safetensors file,
// recognised by its first bytes, checked and loaded by the library's own readers
// (src/io/model_from_weights.ts). Weights of another architecture than the one chosen get a message
// naming both; random weights are the architecture's own initialisation.
import { DataError, UsageError } from '../../errors.js';
import { inferArch, modelFromWeights } from '../../io/model_from_weights.js';
import { readPth } from '../../io/pth/reader.js';
import { isZip } from '../../io/pth/zip.js';
import { parseSafetensors } from '../../io/safetensors_format.js';
import type { TensorMap } from '../../io/tensor_map.js';
import { stripWrapperPrefix } from '../../io/state_dict.js';
import { createModel } from '../../models/alexnet.js';
import type { AlexNet, ArchName } from '../../models/alexnet_base.js';
import { Generator } from '../../random.js';

/** The default input size of each architecture (torchvision's 224, the paper's 227). */
export const INPUT_SIZE: Record<ArchName, number> = { alexnet: 224, 'alexnet-v1': 227, 'alexnet-2012': 227 };

/** The tensors of a weights file held in memory. */
export function readWeightsBytes(bytes: Uint8Array, name: string): TensorMap {
  if (isZip(bytes) || (bytes[0] === 0x80 && (bytes[1] ?? 0xff) <= 5)) return readPth(bytes, name);
  if (bytes.length >= 9 && bytes[8] === 0x7b /* '{' */) return parseSafetensors(bytes, name).tensors;
  throw new DataError(`${name} is not a weights file (expected a PyTorch .pth/.pt or a .safetensors file)`);
}

/** The model `bytes` describe, which must be an `arch`. */
export function modelFromBytes(bytes: Uint8Array, name: string, arch: ArchName): AlexNet {
  const tensors = readWeightsBytes(bytes, name);
  const found = inferArch(stripWrapperPrefix(tensors, new Set()));
  if (found && found !== arch)
    throw new UsageError(`${name} holds ${found} weights, not ${arch}: choose ${found} as the architecture and load it again`);
  return modelFromWeights(tensors, { arch, source: name });
}

/** A freshly initialised `arch` (1000 classes, 3 channels) from a seed. */
export function randomModel(arch: ArchName, seed: number): AlexNet {
  return createModel(arch, { inputSize: INPUT_SIZE[arch], rng: new Generator(seed) }).eval();
}
