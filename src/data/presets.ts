// Ready-made transform lists. `torchvision`: the reference ImageNet recipe (train:
// RandomResizedCrop + flip + normalize; eval: resize 256, center crop, normalize). `paper`:
// Krizhevsky et al. 2012 — images brought to 256×256 (shorter side 256, central crop), the
// per-pixel training mean subtracted, random 224 (or 227) crops with horizontal flips and PCA
// lighting noise for training; the center crop or ten crops for evaluation.
import { T, type TransformSpec } from './transforms.js';

export interface TorchvisionPresetOptions {
  /** Crop size (224). */
  size?: number;
  /** Eval: shorter side before the center crop (256). */
  resize?: number;
  mean?: number[];
  std?: number[];
  /**
   * Train: how RandomResizedCrop resamples — 'libvips' (default: cut and resized by the decoder,
   * much faster, within about a grey level of Pillow) or 'pillow' (torchvision's exact arithmetic).
   */
  resampler?: 'pillow' | 'libvips';
}

export function torchvisionPreset(split: 'train' | 'eval', options: TorchvisionPresetOptions = {}): TransformSpec[] {
  const size = options.size ?? 224;
  const norm = T.normalize(options.mean, options.std);
  if (split === 'train') {
    return [T.randomResizedCrop(size, undefined, undefined, options.resampler ?? 'libvips'), T.randomHorizontalFlip(), T.toTensor(), norm];
  }
  return [T.resize(options.resize ?? 256), T.centerCrop(size), T.toTensor(), norm];
}

export interface PaperPresetOptions {
  /** Crop size: 224 (alexnet) or 227 (alexnet-v1, alexnet-2012). */
  size?: number;
  /** The 256×256 stage (256). */
  base?: number;
  /** Per-pixel mean [C, base, base] in [0, 1] (computeMeanImage); omitted: no subtraction. */
  meanImage?: { data: Float32Array; shape: [number, number, number] };
  /** PCA lighting: eigenvalues/vectors (default: the common ImageNet ones), or false to turn off. */
  pca?: { eigval: number[]; eigvec: number[][]; alphaStd?: number } | false;
  /** Eval: ten crops (4 corners + center, and their flips) instead of the center crop. */
  tenCrop?: boolean;
  /** The images are already base×base (a prepared dataset): skip the resize and center crop. */
  prepared?: boolean;
}

export function paperPreset(split: 'train' | 'eval', options: PaperPresetOptions = {}): TransformSpec[] {
  const size = options.size ?? 224;
  const base = options.base ?? 256;
  const out: TransformSpec[] = options.prepared ? [] : [T.resize(base), T.centerCrop(base)];
  out.push(T.toTensor());
  if (options.meanImage) out.push(T.subtractMean(options.meanImage.data, options.meanImage.shape));
  if (split === 'train') {
    out.push(T.randomCrop(size), T.randomHorizontalFlip());
    if (options.pca !== false) {
      const p = options.pca;
      out.push(p ? T.pcaLighting(p.alphaStd ?? 0.1, p.eigval, p.eigvec) : T.pcaLighting());
    }
  } else {
    out.push(options.tenCrop ? T.tenCrop(size) : T.centerCrop(size));
  }
  return out;
}

/** The preset a model expects: `alexnet` → 224, `alexnet-v1` / `alexnet-2012` → 227. */
export function inputSizeFor(arch: string): number {
  return arch === 'alexnet' ? 224 : 227;
}
