// Weights from what a browser holds — an ArrayBuffer or typed array, a Blob or File, a URL
// (fetched) — and a model's weights as a Blob, platform-neutral (Node 20 has fetch and Blob too).
// The checks and messages are the Node path's: the format is recognised from the bytes
// (state_dict.ts), keys and shapes are strict, weights of another AlexNet are named
// (model_from_weights.ts); a source that cannot be read is a DataError naming it.
import { DataError, UsageError } from '../errors.js';
import { AlexNet, type ArchName } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { isQuantizedHeader } from '../quant/format.js';
import { LITTLE_ENDIAN_HOST, lazyBytesTensor } from './lazy_bytes.js';
import { checkArch, modelFromWeights } from './model_from_weights.js';
import { readPth } from './pth/reader.js';
import { encodePth } from './pth/writer.js';
import { encodeSafetensors, readSafetensors } from './safetensors_format.js';
import { loadTensorMap, stateDictArrays, weightsFormatOf, type WeightsFormat } from './state_dict.js';
import type { TensorMap } from './tensor_map.js';

/** Where weights come from: their bytes, a Blob or File, or a URL to fetch. */
export type WeightsSource = ArrayBuffer | ArrayBufferView | Blob | URL | string;

export interface WeightsSourceOptions {
  /** The fetch to use for a URL (a caching one, say); the global fetch by default. */
  fetch?: (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;
  signal?: AbortSignal;
}

/** An ArrayBuffer, also one made in another realm (a frame, a vm context), where instanceof fails. */
function isArrayBuffer(x: unknown): x is ArrayBuffer {
  return x instanceof ArrayBuffer || Object.prototype.toString.call(x) === '[object ArrayBuffer]';
}

function isBlob(x: unknown): x is Blob {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}

/** Fetches `url` whole: an HTTP error or a failed transfer is a DataError naming the URL (an abort stays an abort). */
async function fetchBytes(url: string, opts: WeightsSourceOptions): Promise<Uint8Array> {
  const get = opts.fetch ?? ((u: string, init?: { signal?: AbortSignal }) => fetch(u, init));
  try {
    const response = await get(url, { signal: opts.signal });
    if (!response.ok) throw new DataError(`${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    if (err instanceof DataError || (err as Error).name === 'AbortError') throw err;
    throw new DataError(`${url}: cannot fetch (${(err as Error).message})`);
  }
}

/** The bytes of a weights source and the name its messages use (the URL, the file's name, or '<buffer>'). */
export async function weightsBytes(source: WeightsSource, opts: WeightsSourceOptions = {}): Promise<{ bytes: Uint8Array; name: string }> {
  if (typeof source === 'string' || source instanceof URL) {
    const url = String(source);
    return { bytes: await fetchBytes(url, opts), name: url };
  }
  if (isBlob(source)) {
    const name = (source as Partial<File>).name || '<blob>';
    try {
      return { bytes: new Uint8Array(await source.arrayBuffer()), name };
    } catch (err) {
      throw new DataError(`${name}: cannot read (${(err as Error).message})`);
    }
  }
  if (ArrayBuffer.isView(source)) return { bytes: new Uint8Array(source.buffer, source.byteOffset, source.byteLength), name: '<buffer>' };
  if (isArrayBuffer(source)) return { bytes: new Uint8Array(source), name: '<buffer>' };
  throw new UsageError(
    `weights must be an ArrayBuffer, a typed array, a Blob or File, or a URL; got ${Object.prototype.toString.call(source)}`,
  );
}

/** The tensors of a weights file's bytes: a .pth/.pt (either container) or .safetensors, recognised from the bytes. */
export function readWeightsBytes(bytes: Uint8Array, name = '<buffer>'): TensorMap {
  return weightsFormatOf(bytes.subarray(0, 16), name) === 'pth' ? readPth(bytes, name) : readSafetensors(bytes, name).tensors;
}

/**
 * The tensors of weights bytes for loading into a model: their float32 values stay in `bytes`
 * and go into the parameters chunk by chunk (lazy_bytes.ts), never copied whole in between.
 */
export function tensorsToLoad(bytes: Uint8Array, name: string): TensorMap {
  if (isQuantizedHeader(bytes))
    throw new UsageError(
      `${name} is a quantized (int8) model: its int8 kernels run only on the native backend (Node: loadModelFile); quant.loadDequantizedModel gives its f32 model with the dequantized weights`,
    );
  if (!LITTLE_ENDIAN_HOST) return readWeightsBytes(bytes, name);
  const lazy = (shape: number[], span: Parameters<typeof lazyBytesTensor>[2]) => lazyBytesTensor(shape, bytes, span);
  return weightsFormatOf(bytes.subarray(0, 16), name) === 'pth'
    ? readPth(bytes, name, { lazy })
    : readSafetensors(bytes, name, { lazy }).tensors;
}

/**
 * Loads weights into `model` (strict: same keys, same shapes). For an AlexNet, weights of another
 * of the three architectures are a UsageError naming both, before any value is copied. A zip
 * entry found corrupt (CRC-32) while its values are copied leaves the model partly loaded: drop it.
 */
export async function loadWeightsFrom(model: Module, source: WeightsSource, opts: WeightsSourceOptions = {}): Promise<void> {
  const { bytes, name } = await weightsBytes(source, opts);
  const tensors = tensorsToLoad(bytes, name);
  if (model instanceof AlexNet) checkArch(tensors, model.arch, name);
  loadTensorMap(model, tensors, name, { consume: true });
}

export interface LoadModelOptions extends WeightsSourceOptions {
  /** The architecture expected; weights of another one are a UsageError naming it. Recognised from the keys when absent. */
  arch?: ArchName;
  /** The input size to prefer where the weights do not fix it (torchvision's alexnet: 224). */
  inputSize?: number;
}

/** Builds the AlexNet that the weights describe (architecture, classes, input channels and size) with them loaded, in eval mode. */
export async function loadModel(source: WeightsSource, opts: LoadModelOptions = {}): Promise<AlexNet> {
  const { bytes, name } = await weightsBytes(source, opts);
  return modelFromWeights(tensorsToLoad(bytes, name), { arch: opts.arch, inputSize: opts.inputSize, source: name });
}

/** The bytes of `model`'s state dict (PyTorch's keys, float32) as a .pth that torch.load(weights_only=True) reads, or as .safetensors. */
export function encodeWeights(model: Module, format: WeightsFormat = 'pth'): Uint8Array[] {
  const arrays = stateDictArrays(model);
  return format === 'safetensors' ? encodeSafetensors(arrays) : encodePth(arrays);
}

/** `model`'s weights as a Blob holding a .pth (PyTorch and the CLI load it) or a .safetensors file. */
export function saveWeightsBlob(model: Module, format: WeightsFormat = 'pth'): Blob {
  if (format !== 'pth' && format !== 'safetensors') throw new UsageError(`format must be 'pth' or 'safetensors', got '${String(format)}'`);
  return new Blob(encodeWeights(model, format) as BlobPart[], { type: 'application/octet-stream' });
}
