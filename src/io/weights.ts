// Model weights in and out of files on Node: loadWeights(model, path) reads a .pth/.pt (either
// torch.save container, plain state dict or checkpoint dict) or a .safetensors file — recognised
// by its content, the extension only breaks ties — and loads it with the model's strict key and
// shape checks (state_dict.ts); saveWeights(model, path) writes .safetensors or (any other
// extension) a .pth that torch.load(weights_only=True) reads. Errors name the file and the key.
import { extname } from 'node:path';
import type { Module } from '../nn/module.js';
import { readFileAt } from './file_source.js';
import { readPth, writePth } from './pth/index.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import { loadTensorMap, stateDictArrays, weightsFormatOf, type WeightsFormat } from './state_dict.js';
import type { TensorMap } from './tensor_map.js';

export {
  loadTensorMap,
  stateDictArrays,
  stripWrapperPrefix,
  weightsFormatOf,
  type LoadOptions,
  type Weights,
  type WeightsFormat,
} from './state_dict.js';

/** The weights format of a file, from its first bytes (falling back to the extension). */
export function detectWeightsFormat(path: string): WeightsFormat {
  return weightsFormatOf(
    readFileAt(path, (file) => file.read(0, Math.min(16, file.size))),
    path,
  );
}

/**
 * Reads every tensor of a weights file as float32. The float32 tensors of a zip .pth or a
 * .safetensors stay in the file (lazy entries, read on first use of `data`), so that loading a
 * model streams them.
 */
export function readWeightsFile(path: string): TensorMap {
  const lazy = { lazy: true };
  return detectWeightsFormat(path) === 'pth' ? readPth(path, undefined, lazy) : readSafetensors(path, undefined, lazy).tensors;
}

/** Loads a weights file into `model` (strict: same keys, same shapes). */
export function loadWeights(model: Module, path: string): void {
  loadTensorMap(model, readWeightsFile(path), path, { consume: true });
}

/** Writes the model's state dict: .safetensors by extension, otherwise a torch.save zip .pth. */
export function saveWeights(model: Module, path: string): void {
  const arrays = stateDictArrays(model);
  if (extname(path).toLowerCase() === '.safetensors') writeSafetensors(path, arrays);
  else writePth(path, arrays);
}
