// The model description beside a weights file (`model.json`, or the `model` field of a training
// checkpoint's meta) is input like any other: every field is checked against its schema, with a
// DataError naming the file and the field. Paths stay inside the model's folder, transform sizes
// are bounded (a 60000² resize would allocate gigabytes), and class names lose their control
// characters (they are printed to terminals).
import { DataError } from '../errors.js';
import { MAX_CLASSES, MAX_IN_CHANNELS } from '../io/model_from_weights.js';
import { ARCHS, isArchName } from '../models/index.js';
import type { StoredTransform } from './data.js';
import type { ModelInfo } from './weights.js';
import { Fields, isObject, MAX_IMAGE_SIDE, printable } from './json_fields.js';

export { MAX_IMAGE_SIDE, printable } from './json_fields.js';
const MAX_TRANSFORMS = 32;

const RESAMPLERS = ['pillow', 'libvips'];

/** A stored transform list (model.json's evalTransforms, a run config's transform lists), checked. */
export function parseTransforms(value: unknown, where: string, field: string, dir: string): StoredTransform[] {
  if (!Array.isArray(value) || value.length > MAX_TRANSFORMS)
    return new Fields(where, '').fail(field, `must be a list of at most ${MAX_TRANSFORMS} transforms`);
  return value.map((t, i) => transform(t, new Fields(where, `${field}[${i}]`), dir));
}

function transform(v: unknown, f: Fields, dir: string): StoredTransform {
  if (!isObject(v)) f.fail('', 'is not an object');
  const o = v;
  const resampler = (): 'pillow' | 'libvips' | undefined => {
    if (o.resampler === undefined) return undefined;
    if (typeof o.resampler !== 'string' || !RESAMPLERS.includes(o.resampler)) f.fail('.resampler', `must be 'pillow' or 'libvips'`);
    return o.resampler as 'pillow' | 'libvips';
  };
  switch (o.type) {
    case 'resize':
      return { type: 'resize', size: f.size('.size', o.size), resampler: resampler() };
    case 'centerCrop':
    case 'tenCrop':
      return { type: o.type, size: f.size('.size', o.size) };
    case 'randomCrop':
      return {
        type: 'randomCrop',
        size: f.size('.size', o.size),
        padding: o.padding === undefined ? undefined : f.int('.padding', o.padding, 0, MAX_IMAGE_SIDE),
      };
    case 'randomResizedCrop':
      return {
        type: 'randomResizedCrop',
        size: f.size('.size', o.size),
        scale: f.nums('.scale', o.scale, [2, 2], 0, 1) as [number, number],
        ratio: f.nums('.ratio', o.ratio, [2, 2], 1e-3, 1e3) as [number, number],
        resampler: resampler(),
      };
    case 'randomHorizontalFlip':
      return { type: 'randomHorizontalFlip', p: f.num('.p', o.p, 0, 1) };
    case 'grayscale':
      if (o.channels !== 1 && o.channels !== 3) f.fail('.channels', 'must be 1 or 3');
      return { type: 'grayscale', channels: o.channels };
    case 'toTensor':
      return { type: 'toTensor' };
    case 'normalize': {
      const mean = f.nums('.mean', o.mean, [1, MAX_IN_CHANNELS], -1e6, 1e6);
      const std = f.nums('.std', o.std, [mean.length, mean.length], 1e-12, 1e6);
      return { type: 'normalize', mean, std };
    }
    case 'subtractMean':
      return { type: 'subtractMean', file: f.fileIn('.file', o.file, dir), shape: f.shape3('.shape', o.shape) };
    case 'pcaLighting':
      return {
        type: 'pcaLighting',
        alphaStd: f.num('.alphaStd', o.alphaStd, 0, 1e3),
        eigval: f.nums('.eigval', o.eigval, [3, 3], -1e6, 1e6),
        eigvec:
          Array.isArray(o.eigvec) && o.eigvec.length === 3
            ? o.eigvec.map((r, i) => f.nums(`.eigvec[${i}]`, r, [3, 3], -1e6, 1e6))
            : f.fail('.eigvec', 'must be 3×3'),
      };
    default:
      return f.fail('.type', `${JSON.stringify(o.type)?.replace(/^"|"$/g, "'") ?? 'undefined'} is not a transform`);
  }
}

/**
 * The model description in `value` (parsed JSON from `where`), checked field by field; `dir` is the
 * model's folder, which file references must stay inside. Absent fields stay absent.
 */
export function parseModelInfo(value: unknown, where: string, dir: string): Partial<ModelInfo> {
  const f: Fields = new Fields(where, '');
  if (!isObject(value)) throw new DataError(`${where}: not a JSON object`);
  const info: Partial<ModelInfo> = {};
  if (value.arch !== undefined) {
    if (typeof value.arch !== 'string' || !isArchName(value.arch))
      f.fail('arch', `'${printable(String(value.arch))}' is not ${ARCHS.slice(0, -1).join(', ')} or ${ARCHS[ARCHS.length - 1]}`);
    info.arch = value.arch;
  }
  if (value.numClasses !== undefined) info.numClasses = f.int('numClasses', value.numClasses, 1, MAX_CLASSES);
  if (value.inChannels !== undefined) info.inChannels = f.int('inChannels', value.inChannels, 1, MAX_IN_CHANNELS);
  if (value.inputSize !== undefined) info.inputSize = f.int('inputSize', value.inputSize, 1, MAX_IMAGE_SIDE);
  if (value.classes !== undefined) {
    if (!Array.isArray(value.classes) || value.classes.length > MAX_CLASSES || !value.classes.every((c) => typeof c === 'string'))
      f.fail('classes', `must be a list of strings (at most ${MAX_CLASSES})`);
    info.classes = (value.classes as string[]).map(printable);
  }
  if (value.evalTransforms !== undefined) info.evalTransforms = parseTransforms(value.evalTransforms, where, 'evalTransforms', dir);
  if (value.meanImage !== undefined) {
    const m = value.meanImage;
    if (!isObject(m)) f.fail('meanImage', 'must be an object { file, shape }');
    info.meanImage = { file: f.fileIn('meanImage.file', m.file, dir), shape: f.shape3('meanImage.shape', m.shape) };
  }
  if (value.dataset !== undefined) info.dataset = printable(f.str('dataset', value.dataset));
  return info;
}
