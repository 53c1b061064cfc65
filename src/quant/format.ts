// The quantized model file: safetensors, self-describing. Per weight layer (PyTorch's state-dict
// prefix): `P.weight` I8 in PyTorch's layout, `P.weight_scale` F32 [oc], `P.bias` F32 [oc] and, for
// every layer but the last, `P.output_scale` F32 [1]; `input_scale` F32 [1]. Metadata: format
// 'alexnet-int8', format_version, arch, num_classes, in_channels, input_size, calibrator,
// calibration_images, calibration_data, and model_info (class names and preprocessing, as
// model.json holds them). Reading checks every key, dtype, shape and value against the
// architecture, each failure a DataError naming the file and the key. Platform-neutral: the
// caller parses model_info (Node: model.json's full parser; the browser: quant/neutral.ts).
import { DataError } from '../errors.js';
import type { SafetensorsContents } from '../io/safetensors_format.js';
import type { NamedTensor } from '../io/tensor_map.js';
import { createModel, isArchName, type AlexNet } from '../models/index.js';
import type { ModelInfo } from '../train/weights.js';
import { CALIBRATORS, type Calibrator } from './observers.js';
import { planOf } from './plan.js';
import type { QuantizedLayer, QuantizedModel } from './quantize.js';

export const INT8_FORMAT = 'alexnet-int8';
const FORMAT_VERSION = '1';

type Entry = { shape: readonly number[]; data: Float32Array | Int8Array };

/** The file's tensors and metadata for `q`. */
export function quantizedTensors(q: QuantizedModel): { tensors: Map<string, Entry>; metadata: Record<string, string> } {
  const tensors = new Map<string, Entry>();
  tensors.set('input_scale', { shape: [1], data: Float32Array.of(q.inputScale) });
  for (const [name, l] of q.layers) {
    tensors.set(`${name}.weight`, { shape: l.shape, data: l.weight });
    tensors.set(`${name}.weight_scale`, { shape: [l.weightScales.length], data: l.weightScales });
    tensors.set(`${name}.bias`, { shape: [l.bias.length], data: l.bias });
    if (l.outputScale !== null) tensors.set(`${name}.output_scale`, { shape: [1], data: Float32Array.of(l.outputScale) });
  }
  const { classes, evalTransforms, dataset } = q.info;
  const metadata: Record<string, string> = {
    format: INT8_FORMAT,
    format_version: FORMAT_VERSION,
    arch: q.arch,
    num_classes: String(q.numClasses),
    in_channels: String(q.inChannels),
    input_size: String(q.inputSize),
    calibrator: q.calibrator,
    calibration_images: String(q.calibrationImages),
    calibration_data: q.calibrationData,
    model_info: JSON.stringify({
      arch: q.arch,
      numClasses: q.numClasses,
      inChannels: q.inChannels,
      inputSize: q.inputSize,
      classes,
      evalTransforms,
      dataset,
    }),
  };
  return { tensors, metadata };
}

/** Whether safetensors metadata says the file is a quantized model. */
export function isQuantizedMetadata(metadata: Record<string, string>): boolean {
  return metadata.format === INT8_FORMAT;
}

/** A safetensors header larger than this is not a quantized model's (its header is a few KiB). */
export const MAX_QUANTIZED_HEADER = 1 << 20;

/**
 * Whether `start` (a file's first bytes: the 8-byte length and at least that much JSON header)
 * is a safetensors header whose metadata says quantized model. Never throws: anything else is false.
 */
export function isQuantizedHeader(start: Uint8Array): boolean {
  if (start.length < 8) return false;
  const len = new DataView(start.buffer, start.byteOffset, 8).getBigUint64(0, true);
  if (len < 2n || len > BigInt(MAX_QUANTIZED_HEADER) || BigInt(start.length) < 8n + len) return false;
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(start.subarray(8, 8 + Number(len))));
    const meta = (parsed as { __metadata__?: unknown } | null)?.__metadata__;
    return typeof meta === 'object' && meta !== null && isQuantizedMetadata(meta as Record<string, string>);
  } catch {
    return false;
  }
}

/** Parses the metadata's model_info JSON into a model description (`where` names it in messages). */
export type ModelInfoParser = (json: unknown, where: string) => Partial<ModelInfo>;

/**
 * The quantized model in a safetensors file's contents, checked, and an AlexNet of its
 * architecture and sizes (parameters zero: its structure builds the int8 network).
 */
export function readQuantized(
  contents: SafetensorsContents,
  where: string,
  parseInfo: ModelInfoParser,
): { q: QuantizedModel; model: AlexNet } {
  const { metadata: m, tensors } = contents;
  const fail = (msg: string): never => {
    throw new DataError(`${where}: ${msg}`);
  };
  if (!isQuantizedMetadata(m)) fail(`not a quantized model (no '${INT8_FORMAT}' format in its metadata): make one with alexnet quantize`);
  if (m.format_version !== FORMAT_VERSION)
    fail(`quantized model format version '${m.format_version}', this library reads '${FORMAT_VERSION}'`);
  const arch = m.arch ?? '';
  if (!isArchName(arch)) fail(`metadata arch '${arch}' is not an architecture`);
  const int = (key: string, max: number): number => {
    const v = Number(m[key]);
    if (!(Number.isSafeInteger(v) && v >= 1 && v <= max)) fail(`metadata ${key} '${m[key]}' is not an integer in [1, ${max}]`);
    return v;
  };
  const numClasses = int('num_classes', 1_000_000);
  const inChannels = int('in_channels', 4096);
  const inputSize = int('input_size', 8192);
  const calibrationImages = int('calibration_images', Number.MAX_SAFE_INTEGER);
  const calibrator = m.calibrator as Calibrator;
  if (!CALIBRATORS.includes(calibrator)) fail(`metadata calibrator '${m.calibrator}' is not one of ${CALIBRATORS.join(', ')}`);
  let infoJson: unknown;
  try {
    infoJson = JSON.parse(m.model_info ?? '');
  } catch {
    fail('metadata model_info is not JSON');
  }
  const info = parseInfo(infoJson, `${where} (metadata model_info)`);
  let model: AlexNet;
  try {
    model = createModel(arch as AlexNet['arch'], { numClasses, inChannels, inputSize, init: 'none' });
  } catch (err) {
    return fail(`its sizes do not make a model: ${(err as Error).message}`);
  }
  const tensor = (key: string, dtype: string, shape: readonly number[]): NamedTensor => {
    const t = tensors.get(key) ?? fail(`missing tensor '${key}'`);
    if (t.sourceDType !== dtype) fail(`tensor '${key}' is ${t.sourceDType}, expected ${dtype}`);
    if (t.shape.join() !== shape.join()) fail(`tensor '${key}' has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
    return t;
  };
  const scalesOf = (key: string, n: number): Float32Array => {
    const d = tensor(key, 'float32', [n]).data;
    if (!d.every((v) => Number.isFinite(v) && v > 0)) fail(`tensor '${key}' holds a scale that is not finite and positive`);
    return d;
  };
  const inputScale = scalesOf('input_scale', 1)[0]!;
  const layers = new Map<string, QuantizedLayer>();
  const plan = planOf(model).filter((s) => s.kind === 'weight');
  const expected = 1 + plan.length * 3 + plan.length - 1;
  plan.forEach((s, i) => {
    if (s.kind !== 'weight') return;
    const shape = [...s.layer.weight.shape];
    const oc = shape[0] ?? 1;
    const bias = tensor(`${s.name}.bias`, 'float32', [oc]).data;
    if (!bias.every(Number.isFinite)) fail(`tensor '${s.name}.bias' holds a value that is not finite`);
    const last = i === plan.length - 1;
    layers.set(s.name, {
      weight: Int8Array.from(tensor(`${s.name}.weight`, 'int8', shape).data),
      shape,
      weightScales: scalesOf(`${s.name}.weight_scale`, oc),
      bias,
      outputScale: last ? null : scalesOf(`${s.name}.output_scale`, 1)[0]!,
    });
  });
  if (tensors.size !== expected) {
    const known = new Set([
      'input_scale',
      ...[...layers.keys()].flatMap((n) => [`${n}.weight`, `${n}.weight_scale`, `${n}.bias`, `${n}.output_scale`]),
    ]);
    const extra = [...tensors.keys()].find((k) => !known.has(k));
    fail(`unexpected tensor '${extra ?? '?'}' for ${arch}`);
  }
  const full: ModelInfo = {
    arch: arch as AlexNet['arch'],
    numClasses,
    inChannels,
    inputSize,
    classes: info.classes ?? [],
    evalTransforms: info.evalTransforms ?? [],
    dataset: info.dataset,
  };
  const q: QuantizedModel = {
    arch: full.arch,
    numClasses,
    inChannels,
    inputSize,
    info: full,
    calibrator,
    calibrationImages,
    calibrationData: m.calibration_data ?? '',
    inputScale,
    layers,
  };
  return { q, model };
}
