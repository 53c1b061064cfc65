// Where a run's images come from and how they are preprocessed: image folders (DATA/train,
// DATA/val), prepared files, or Fashion-MNIST's IDX files; the transform lists of each recipe.
// Transforms are stored in config.json / checkpoints / model.json as plain data; the one
// transform that carries an array (the paper's mean image) is stored by file name instead.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BrokenInputLog,
  DEBIAN_FASHION_MNIST_DIR,
  IdxDataset,
  ImageFolder,
  PreparedDataset,
  T,
  loadMeanImage,
  paperPreset,
  torchvisionPreset,
  type Dataset,
  type MeanImage,
  type TransformSpec,
} from '../data/index.js';
import { DataError, UsageError } from '../errors.js';

/** Fashion-MNIST's mean and standard deviation of [0, 1] pixels over the training set. */
export const FASHION_MNIST_MEAN = [0.286];
export const FASHION_MNIST_STD = [0.353];

export type DataSpec = { kind: 'fashion-mnist'; dir: string } | { kind: 'files'; train: string; val: string };

export type Recipe = 'paper' | 'torchvision' | 'fashion-mnist' | 'd2l';

/** A transform as stored in JSON: the mean image is referred to by file. */
export type StoredTransform =
  Exclude<TransformSpec, { type: 'subtractMean' }> | { type: 'subtractMean'; file: string; shape: [number, number, number] };

export interface RunData {
  train: Dataset;
  val: Dataset;
  classes: string[];
  name: string;
  broken: BrokenInputLog;
}

function openSplit(path: string, channels: 1 | 3, broken: BrokenInputLog): Dataset {
  if (!existsSync(path)) throw new DataError(`${path}: no such dataset folder or prepared file`);
  if (statSync(path).isDirectory()) return ImageFolder.open(path, { channels, broken });
  return new PreparedDataset(path);
}

/** Resolves `alexnet train DATA` / --train / --val / --dataset into a data spec. */
export function resolveDataSpec(opts: { data?: string; train?: string; val?: string; dataset?: string }): DataSpec {
  if (opts.dataset !== undefined) {
    const m = /^fashion-mnist(?:=(.+))?$/.exec(opts.dataset);
    if (!m) throw new UsageError(`--dataset: unknown dataset '${opts.dataset}' (expected fashion-mnist or fashion-mnist=DIR)`);
    if (opts.data || opts.train || opts.val) throw new UsageError('--dataset cannot be combined with a data folder, --train or --val');
    return { kind: 'fashion-mnist', dir: m[1] ?? DEBIAN_FASHION_MNIST_DIR };
  }
  let train = opts.train;
  let val = opts.val;
  if (opts.data) {
    if (existsSync(opts.data) && statSync(opts.data).isFile()) {
      train ??= opts.data;
    } else {
      train ??= join(opts.data, 'train');
      val ??= join(opts.data, 'val');
    }
  }
  if (!train)
    throw new UsageError(
      'no training data: give DATA (with train/ and val/), --train DIR and --val DIR, a prepared file, or --dataset fashion-mnist',
    );
  if (!val) throw new UsageError(`no validation data for ${train}: give --val DIR or FILE`);
  return { kind: 'files', train, val };
}

export function openRunData(spec: DataSpec, channels: 1 | 3, strict: boolean): RunData {
  const broken = new BrokenInputLog({ strict });
  if (spec.kind === 'fashion-mnist') {
    const train = IdxDataset.fashionMnist('train', spec.dir);
    const val = IdxDataset.fashionMnist('test', spec.dir);
    return { train, val, classes: [...train.classes], name: 'fashion-mnist', broken };
  }
  const train = openSplit(spec.train, channels, broken);
  const val = openSplit(spec.val, channels, broken);
  if (train.classes.join('\n') !== val.classes.join('\n')) {
    throw new DataError(
      `${spec.val}: classes (${val.classes.length}) differ from ${spec.train} (${train.classes.length}); both need the same class folders`,
    );
  }
  return { train, val, classes: [...train.classes], name: spec.train, broken };
}

/** The transform lists of a recipe (as stored: the mean image named by file). */
export function recipeTransforms(
  recipe: Recipe,
  o: { inputSize: number; inChannels: number; prepared: boolean; meanImageFile?: string; meanShape?: [number, number, number] },
): { train: StoredTransform[]; eval: StoredTransform[] } {
  const size = o.inputSize;
  const gray = o.inChannels === 1;
  switch (recipe) {
    case 'fashion-mnist': {
      const chan: StoredTransform[] = o.inChannels === 3 ? [T.grayscale(3) as StoredTransform] : [];
      const norm = T.normalize(
        o.inChannels === 3 ? [0.286, 0.286, 0.286] : FASHION_MNIST_MEAN,
        o.inChannels === 3 ? [0.353, 0.353, 0.353] : FASHION_MNIST_STD,
      );
      const common: StoredTransform[] = [T.resize([size, size]), ...chan, T.toTensor(), norm] as StoredTransform[];
      return { train: common, eval: common };
    }
    case 'd2l': {
      const common = [T.resize([size, size]), T.toTensor()] as StoredTransform[];
      return { train: common, eval: common };
    }
    case 'torchvision': {
      const mean = gray ? [0.449] : undefined;
      const std = gray ? [0.226] : undefined;
      return {
        train: torchvisionPreset('train', { size, mean, std }) as StoredTransform[],
        eval: torchvisionPreset('eval', { size, resize: Math.round((size * 256) / 224), mean, std }) as StoredTransform[],
      };
    }
    case 'paper': {
      const mk = (split: 'train' | 'eval'): StoredTransform[] => {
        const list = paperPreset(split, { size, prepared: o.prepared, pca: gray ? false : undefined }) as StoredTransform[];
        if (o.meanImageFile && o.meanShape) {
          const at = list.findIndex((t) => t.type === 'toTensor') + 1;
          list.splice(at, 0, { type: 'subtractMean', file: o.meanImageFile, shape: o.meanShape });
        }
        return list;
      };
      return { train: mk('train'), eval: mk('eval') };
    }
  }
}

/** Turns stored transforms into runnable ones, loading the mean image (or taking it from `mean`). */
export function materialize(list: readonly StoredTransform[], resolveFile: (file: string) => string, mean?: MeanImage): TransformSpec[] {
  return list.map((t) => {
    if (t.type !== 'subtractMean') return t;
    const m = mean ?? loadMeanImage(resolveFile(t.file));
    return T.subtractMean(m.data, m.shape);
  });
}

/** The evaluation list with its last center crop (the network's input) replaced by ten crops (4 corners + center, and flips). */
export function tenCropTransforms(list: readonly StoredTransform[]): StoredTransform[] {
  let at = -1;
  list.forEach((t, i) => {
    if (t.type === 'centerCrop') at = i;
  });
  if (at < 0) {
    // No crop (Fashion-MNIST's resize): ten crops of the full size are the image and its flip.
    const tt = list.findIndex((t) => t.type === 'toTensor');
    const resize = list.find((t) => t.type === 'resize');
    const size = resize && resize.type === 'resize' ? resize.size : null;
    if (tt < 0 || size === null) throw new UsageError('--ten-crop needs a preprocessing that ends in a fixed-size crop');
    const out = [...list];
    out.splice(tt, 0, T.tenCrop(size) as StoredTransform);
    return out;
  }
  const crop = list[at];
  const out = [...list];
  out[at] = T.tenCrop(crop?.type === 'centerCrop' ? crop.size : 224) as StoredTransform;
  return out;
}

/** True when the dataset is a prepared file (its images are already the paper's 256×256). */
export function isPrepared(d: Dataset): boolean {
  return d instanceof PreparedDataset;
}
