// Model weights in and out of files: loadWeights(model, path) reads a .pth/.pt (either torch.save
// container, plain state dict or checkpoint dict) or a .safetensors file — recognised by its
// content, the extension only breaks ties — and loads it with the model's strict key and shape
// checks; saveWeights(model, path) writes .safetensors or (any other extension) a .pth that
// torch.load(weights_only=True) reads. Errors name the file and the key.
import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { readPth, writePth } from './pth/index.js';
import { isZip } from './pth/zip.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';
import type { TensorMap } from './tensor_map.js';

export type WeightsFormat = 'pth' | 'safetensors';

function head(path: string, n: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as Error).message})`);
  }
  try {
    const b = new Uint8Array(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The weights format of a file, from its first bytes (falling back to the extension). */
export function detectWeightsFormat(path: string): WeightsFormat {
  const b = head(path, 16);
  if (isZip(b) || (b.length >= 2 && b[0] === 0x80 && b[1] <= 5)) return 'pth';
  if (b.length >= 9 && b[8] === 0x7b /* '{' */) return 'safetensors';
  const ext = extname(path).toLowerCase();
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.pth' || ext === '.pt' || ext === '.bin' || ext === '.ckpt') return 'pth';
  throw new DataError(`${path}: not a weights file (expected a PyTorch .pth/.pt or a .safetensors file)`);
}

/** Reads every tensor of a weights file as float32. */
export function readWeightsFile(path: string): TensorMap {
  return detectWeightsFormat(path) === 'pth' ? readPth(path) : readSafetensors(path).tensors;
}

/**
 * Renames keys saved from a wrapped model (nn.DataParallel's 'module.' prefix) when the model
 * has no such prefix and every key in the file carries it.
 */
export function stripWrapperPrefix(tensors: TensorMap, modelKeys: Set<string>): TensorMap {
  const prefix = 'module.';
  const keys = [...tensors.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith(prefix)) || [...modelKeys].some((k) => k.startsWith(prefix))) return tensors;
  return new Map(keys.map((k) => [k.slice(prefix.length), tensors.get(k)!]));
}

/** Loads a weights file into `model` (strict: same keys, same shapes). */
export function loadWeights(model: Module, path: string): void {
  loadTensorMap(model, readWeightsFile(path), path);
}

/** Loads tensors already read from `source` into `model` (strict: same keys, same shapes). */
export function loadTensorMap(model: Module, fileTensors: TensorMap, source: string): void {
  const own = model.stateDict();
  const tensors = stripWrapperPrefix(fileTensors, new Set(own.keys()));
  const state = new Map<string, Tensor>();
  try {
    for (const [k, t] of tensors) {
      // Keys the model does not have are reported by loadStateDict; their values are never copied.
      if (!own.has(k)) {
        state.set(k, Tensor.zeros([0]));
        continue;
      }
      state.set(k, Tensor.fromArray(t.data, t.shape, { backend: own.get(k)!.backend }));
    }
    model.loadStateDict(state, { source });
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

/** The model's parameters as float32 arrays, by PyTorch name. */
export function stateDictArrays(model: Module): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [k, t] of model.stateDict()) {
    const a = t.toArray();
    out.set(k, { shape: [...t.shape], data: a instanceof Float32Array ? a : Float32Array.from(a) });
  }
  return out;
}

/** Writes the model's state dict: .safetensors by extension, otherwise a torch.save zip .pth. */
export function saveWeights(model: Module, path: string): void {
  const arrays = stateDictArrays(model);
  if (extname(path).toLowerCase() === '.safetensors') writeSafetensors(path, arrays);
  else writePth(path, arrays);
}
