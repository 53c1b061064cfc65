// Quantized model files on any platform (no Node built-ins; the browser bundle exports this as
// `quant`): recognised from their first bytes, read and checked from bytes as the Node loader
// checks them, and dequantized to an f32 AlexNet (w = q · scale per output channel, biases as
// stored) that runs on every backend. The int8 kernels themselves run only where the native addon
// does (Node's loadModelFile); the dequantized model keeps the int8 weights' rounding but computes
// its activations in f32, so its logits are close to the int8 model's, not equal.
import { DataError, UsageError } from '../errors.js';
import { readSafetensors } from '../io/safetensors_format.js';
import { loadTensorMap } from '../io/state_dict.js';
import type { TensorMap } from '../io/tensor_map.js';
import { weightsBytes, type WeightsSourceOptions, type WeightsSource } from '../io/web_weights.js';
import { createModel, type AlexNet } from '../models/index.js';
import type { StoredTransform } from '../train/data.js';
import type { ModelInfo } from '../train/weights.js';
import { isQuantizedHeader, readQuantized, type ModelInfoParser } from './format.js';
import type { QuantizedModel } from './quantize.js';

export { isQuantizedHeader as isQuantizedBytes } from './format.js';

/** What loading a quantized model where its int8 kernels cannot run says. */
export const INT8_NATIVE_ONLY =
  'its int8 kernels run only on the native backend (Node: loadModelFile, or the CLI); here it loads as the f32 model with its dequantized weights';

/**
 * model_info without Node's path handling: class names (strings, one per class or none), the
 * dataset name, and evaluation transforms as a list of objects naming their type (informational
 * here: their fields are checked by the Node loader, which applies them).
 */
const parseInfo: ModelInfoParser = (json, where) => {
  const fail = (msg: string): never => {
    throw new DataError(`${where}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('is not an object');
  const v = json as Record<string, unknown>;
  const info: Partial<ModelInfo> = {};
  if (v.classes !== undefined) {
    if (!Array.isArray(v.classes) || !v.classes.every((c) => typeof c === 'string')) fail('classes is not a list of names');
    info.classes = v.classes as string[];
  }
  if (v.dataset !== undefined) {
    if (typeof v.dataset !== 'string') fail('dataset is not a string');
    info.dataset = v.dataset as string;
  }
  if (v.evalTransforms !== undefined) {
    const ts = v.evalTransforms;
    if (!Array.isArray(ts) || !ts.every((t) => typeof t === 'object' && t !== null && typeof (t as { type?: unknown }).type === 'string'))
      fail('evalTransforms is not a list of transforms');
    info.evalTransforms = ts as StoredTransform[];
  }
  return info;
};

/** The quantized model in a file's bytes, every key, dtype, shape and scale checked (a DataError names `name` and the key). */
export function readQuantizedBytes(bytes: Uint8Array, name = '<buffer>'): QuantizedModel {
  const { q, model } = readQuantized(readSafetensors(bytes, name), name, parseInfo);
  for (const [, p] of model.namedParameters()) p.dispose();
  if (q.info.classes.length !== 0 && q.info.classes.length !== q.numClasses)
    throw new DataError(`${name}: metadata model_info names ${q.info.classes.length} classes, the model has ${q.numClasses}`);
  return q;
}

/** The f32 AlexNet of a quantized model: weights q · scale per output channel, biases as stored; eval mode. */
export function dequantize(q: QuantizedModel, name = '<quantized model>'): AlexNet {
  const model = createModel(q.arch, { numClasses: q.numClasses, inChannels: q.inChannels, inputSize: q.inputSize, init: 'none' });
  const tensors: TensorMap = new Map();
  for (const [prefix, l] of q.layers) {
    const oc = l.shape[0] ?? 1;
    const per = l.weight.length / oc;
    const w = new Float32Array(l.weight.length);
    for (let o = 0; o < oc; o++) for (let j = 0; j < per; j++) w[o * per + j] = l.weight[o * per + j]! * l.weightScales[o]!;
    tensors.set(`${prefix}.weight`, { shape: [...l.shape], data: w, sourceDType: 'float32' });
    tensors.set(`${prefix}.bias`, { shape: [oc], data: Float32Array.from(l.bias), sourceDType: 'float32' });
  }
  loadTensorMap(model, tensors, name, { consume: true });
  return model.eval();
}

/**
 * A quantized model file from bytes, a Blob/File or a URL: its checked contents and its f32 model
 * (dequantized), with the note to show where int8 kernels do not run.
 */
export async function loadDequantizedModel(
  source: WeightsSource,
  opts: WeightsSourceOptions = {},
): Promise<{ model: AlexNet; quantized: QuantizedModel; note: string }> {
  const { bytes, name } = await weightsBytes(source, opts);
  if (!isQuantizedHeader(bytes))
    throw new UsageError(`${name}: not a quantized model (f32 weights or another file): load f32 weights with loadModel`);
  const quantized = readQuantizedBytes(bytes, name);
  return { model: dequantize(quantized, name), quantized, note: `${name} is an int8 model: ${INT8_NATIVE_ONLY}` };
}
