// Model weights in and out of a model, platform-neutral: which format a weights file is (from
// its first bytes, the name's extension only breaking ties), loading named tensors into a model
// with strict key and shape checks (errors name the source and the key), and a model's state
// dict as float32 arrays. weights.ts does this for files on Node, web_weights.ts for what a
// browser has (ArrayBuffer, Blob, URL).
import { DataError } from '../errors.js';
import type { Module } from '../nn/module.js';
import { noGrad, shapeText, Tensor } from '../tensor.js';
import { isZip } from './pth/zip.js';
import { valueCount, type NamedTensor } from './tensor_map.js';

export type WeightsFormat = 'pth' | 'safetensors';

/** The lower-case extension of a path or URL's last segment ('.pth'), or '' when it has none. */
function extension(name: string): string {
  const base =
    name
      .replace(/[?#].*$/, '')
      .split(/[\\/]/)
      .pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

/** The weights format of a file from its first bytes (16 are enough), falling back to the extension of `name`. */
export function weightsFormatOf(b: Uint8Array, name: string): WeightsFormat {
  if (isZip(b) || (b[0] === 0x80 && (b[1] ?? 0xff) <= 5)) return 'pth';
  if (b.length >= 9 && b[8] === 0x7b /* '{' */) return 'safetensors';
  const ext = extension(name);
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.pth' || ext === '.pt' || ext === '.bin' || ext === '.ckpt') return 'pth';
  throw new DataError(`${name}: not a weights file (expected a PyTorch .pth/.pt or a .safetensors file)`);
}

/** Named float32 tensors as any reader returns them (TensorMap, possibly lazy; checkpoint tensors). */
export type Weights = ReadonlyMap<
  string,
  { readonly shape: readonly number[]; readonly data: Float32Array } & Partial<Pick<NamedTensor, 'length' | 'readChunks'>>
>;

/**
 * Renames keys saved from a wrapped model (nn.DataParallel's 'module.' prefix) when the model
 * has no such prefix and every key in the file carries it.
 */
export function stripWrapperPrefix<W extends Weights>(tensors: W, modelKeys: ReadonlySet<string>): W {
  const prefix = 'module.';
  const keys = [...tensors.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith(prefix)) || [...modelKeys].some((k) => k.startsWith(prefix))) return tensors;
  return new Map(keys.map((k) => [k.slice(prefix.length), tensors.get(k)!])) as unknown as W;
}

export interface LoadOptions {
  /** Keys under this module prefix ('classifier.6') keep the model's values and may differ or be absent in the file. */
  skipPrefix?: string;
  /** Empty the map as its tensors are copied, so that the file's values can be freed one by one. */
  consume?: boolean;
}

/**
 * Loads tensors read from `source` into `model`: strict (same keys, same shapes, as many values
 * as the shapes say), all checked before the first value is copied, then copied one tensor at a
 * time so that no second copy of the whole state dict is ever made; lazy entries are streamed
 * into the parameters' storage, so not even one tensor is held twice. Errors name the file and
 * key; a read error midway (a CRC mismatch found at a tensor's end) leaves the model partly
 * loaded, so callers drop it.
 */
export function loadTensorMap(model: Module, fileTensors: Weights, source: string, opts: LoadOptions = {}): void {
  const own = model.stateDict();
  const tensors = stripWrapperPrefix(fileTensors, new Set(own.keys()));
  const skipped = (k: string): boolean => opts.skipPrefix !== undefined && k.startsWith(opts.skipPrefix + '.');
  const missing = [...own.keys()].filter((k) => !skipped(k) && !tensors.has(k));
  if (missing.length)
    throw new DataError(
      `state dict in ${source} is missing key '${missing[0]}'${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`,
    );
  const extra = [...tensors.keys()].filter((k) => !skipped(k) && !own.has(k));
  if (extra.length)
    throw new DataError(
      `state dict in ${source} has unexpected key '${extra[0]}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`,
    );
  const copies: [string, Tensor][] = [];
  for (const [key, param] of own) {
    const t = tensors.get(key);
    if (skipped(key) || !t) continue;
    if (t.shape.length !== param.shape.length || t.shape.some((d, i) => d !== param.shape[i]))
      throw new DataError(
        `state dict in ${source}: key '${key}' has shape ${shapeText(t.shape)}, the model expects ${shapeText(param.shape)}`,
      );
    if (valueCount(t) !== param.size)
      throw new DataError(`${source}: '${key}' holds ${valueCount(t)} values for shape ${shapeText(t.shape)}`);
    copies.push([key, param]);
  }
  // Consuming: only `tensors` keeps the values (the file's map, or the renamed copy of it), and
  // each entry goes as soon as it is copied.
  if (opts.consume && tensors !== fileTensors) (fileTensors as Map<string, unknown>).clear();
  noGrad(() => {
    for (const [key, param] of copies) {
      const t = tensors.get(key)!;
      // A lazy entry goes from the file into the parameter's own storage a chunk at a time.
      if (t.readChunks && param.dtype === 'float32') t.readChunks((offset, values) => param.write(offset, values));
      else {
        const value = Tensor.fromArray(t.data, t.shape, { backend: param.backend });
        try {
          param.assign(value);
        } finally {
          value.dispose();
        }
      }
      if (opts.consume) (tensors as Map<string, unknown>).delete(key);
    }
  });
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
