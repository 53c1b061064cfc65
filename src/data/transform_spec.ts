// Transforms as plain data: the TransformSpec union, builders named like torchvision's classes
// (T.resize, T.centerCrop, …), and the ImageNet constants. Being plain data, a pipeline can be
// sent to worker threads and saved with a checkpoint; transforms.ts applies it.
import { shorterSideSize } from './resample.js';

/** A size: one number means a square (crops) or the shorter side (Resize); [h, w] is explicit. */
export type Size = number | [number, number];

export type TransformSpec =
  | {
      type: 'resize';
      size: Size;
      /** As for randomResizedCrop: 'pillow' (default, torchvision-exact) or 'libvips' (in the decoder, when first). */
      resampler?: 'pillow' | 'libvips';
    }
  | { type: 'centerCrop'; size: Size }
  | { type: 'randomCrop'; size: Size; padding?: number }
  | {
      type: 'randomResizedCrop';
      size: Size;
      scale: [number, number];
      ratio: [number, number];
      /**
       * 'pillow' (default): Pillow's bilinear in TypeScript, as torchvision. 'libvips': when it is the
       * first transform of an image-file dataset, the decoder cuts and resizes natively (faster;
       * same boxes, resampling within about a grey level of Pillow's).
       */
      resampler?: 'pillow' | 'libvips';
    }
  | { type: 'randomHorizontalFlip'; p: number }
  | { type: 'tenCrop'; size: Size }
  | { type: 'grayscale'; channels: 1 | 3 }
  | { type: 'toTensor' }
  | { type: 'normalize'; mean: number[]; std: number[] }
  | { type: 'subtractMean'; mean: Float32Array; shape: [number, number, number] }
  | { type: 'pcaLighting'; alphaStd: number; eigval: number[]; eigvec: number[][] };

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];
/** The usual stand-in for the paper's RGB eigen-decomposition, on [0, 1] pixels (fb.resnet.torch). */
export const IMAGENET_PCA_EIGVAL = [0.2175, 0.0188, 0.0045];
export const IMAGENET_PCA_EIGVEC = [
  [-0.5675, 0.7192, 0.4009],
  [-0.5808, -0.0045, -0.814],
  [-0.5836, -0.6948, 0.4203],
];

/** Builders, named like torchvision's classes. */
export const T = {
  resize: (size: Size, resampler: 'pillow' | 'libvips' = 'pillow'): TransformSpec => ({ type: 'resize', size, resampler }),
  centerCrop: (size: Size): TransformSpec => ({ type: 'centerCrop', size }),
  randomCrop: (size: Size, padding = 0): TransformSpec => ({ type: 'randomCrop', size, padding }),
  randomResizedCrop: (
    size: Size,
    scale: [number, number] = [0.08, 1],
    ratio: [number, number] = [3 / 4, 4 / 3],
    resampler: 'pillow' | 'libvips' = 'pillow',
  ): TransformSpec => ({ type: 'randomResizedCrop', size, scale, ratio, resampler }),
  randomHorizontalFlip: (p = 0.5): TransformSpec => ({ type: 'randomHorizontalFlip', p }),
  tenCrop: (size: Size): TransformSpec => ({ type: 'tenCrop', size }),
  grayscale: (channels: 1 | 3 = 1): TransformSpec => ({ type: 'grayscale', channels }),
  toTensor: (): TransformSpec => ({ type: 'toTensor' }),
  normalize: (mean = IMAGENET_MEAN, std = IMAGENET_STD): TransformSpec => ({ type: 'normalize', mean, std }),
  /** `mean` is a [C, H, W] image in ToTensor's [0, 1] scale (see computeMeanImage). */
  subtractMean: (mean: Float32Array, shape: [number, number, number]): TransformSpec => ({ type: 'subtractMean', mean, shape }),
  pcaLighting: (alphaStd = 0.1, eigval = IMAGENET_PCA_EIGVAL, eigvec = IMAGENET_PCA_EIGVEC): TransformSpec => ({
    type: 'pcaLighting',
    alphaStd,
    eigval,
    eigvec,
  }),
};

/** Output size of Resize(size) for a width × height image. */
export function resizeTarget(size: Size, width: number, height: number): { width: number; height: number } {
  return typeof size === 'number' ? shorterSideSize(width, height, size) : { height: size[0], width: size[1] };
}

export function hw(size: Size): [number, number] {
  return typeof size === 'number' ? [size, size] : size;
}
