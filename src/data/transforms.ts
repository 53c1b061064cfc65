// Image transforms as plain data (TransformSpec) plus one function that applies a list of them.
// Being plain data, a pipeline can be sent to worker threads and saved with a checkpoint.
// Randomness comes only from the Generator passed in (the loader derives one per sample from
// (seed, epoch, index)), so the same seed gives the same augmentations anywhere.
// Semantics follow torchvision 0.14 on PIL images; the paper's mean-image subtraction and PCA
// lighting follow Krizhevsky et al. 2012 (§4.1).
import type { Generator } from '../random.js';
import {
  crop, flipHorizontal, grayToChannels, rgbToGray, roundHalfEven, toFloat,
  type Box, type FloatImage, type Pixels, type U8Image,
} from './image.js';
import { resizeBilinear, shorterSideSize } from './resample.js';

/** A size: one number means a square (crops) or the shorter side (Resize); [h, w] is explicit. */
export type Size = number | [number, number];

export type TransformSpec =
  | {
    type: 'resize'; size: Size;
    /** As for randomResizedCrop: 'pillow' (default, torchvision-exact) or 'libvips' (in the decoder, when first). */
    resampler?: 'pillow' | 'libvips';
  }
  | { type: 'centerCrop'; size: Size }
  | { type: 'randomCrop'; size: Size; padding?: number }
  | {
    type: 'randomResizedCrop'; size: Size; scale: [number, number]; ratio: [number, number];
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
    size: Size, scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3],
    resampler: 'pillow' | 'libvips' = 'pillow',
  ): TransformSpec => ({ type: 'randomResizedCrop', size, scale, ratio, resampler }),
  randomHorizontalFlip: (p = 0.5): TransformSpec => ({ type: 'randomHorizontalFlip', p }),
  tenCrop: (size: Size): TransformSpec => ({ type: 'tenCrop', size }),
  grayscale: (channels: 1 | 3 = 1): TransformSpec => ({ type: 'grayscale', channels }),
  toTensor: (): TransformSpec => ({ type: 'toTensor' }),
  normalize: (mean = IMAGENET_MEAN, std = IMAGENET_STD): TransformSpec => ({ type: 'normalize', mean, std }),
  /** `mean` is a [C, H, W] image in ToTensor's [0, 1] scale (see computeMeanImage). */
  subtractMean: (mean: Float32Array, shape: [number, number, number]): TransformSpec => ({ type: 'subtractMean', mean, shape }),
  pcaLighting: (alphaStd = 0.1, eigval = IMAGENET_PCA_EIGVAL, eigvec = IMAGENET_PCA_EIGVEC): TransformSpec =>
    ({ type: 'pcaLighting', alphaStd, eigval, eigvec }),
};

/**
 * Applies `specs` in order. After a TenCrop the rest applies to each crop; the result is then a list.
 * `out`, when given, may receive the final float image (a view of a batch), saving a copy: check
 * `result.data === out`.
 */
export function applyTransforms(specs: readonly TransformSpec[], input: Pixels, rng: Generator, out?: Float32Array): Pixels | Pixels[] {
  let cur: Pixels | Pixels[] = input;
  for (let k = 0; k < specs.length; k++) {
    if (!Array.isArray(cur) && cur.kind === 'u8') {
      const fused = fusedTail(specs, k, cur, rng, out);
      if (fused) return fused;
    }
    const spec = specs[k];
    cur = Array.isArray(cur) ? cur.flatMap((p) => applyOne(spec, p, rng)) : applyOne(spec, cur, rng);
  }
  return cur;
}

/**
 * The common end of a pipeline — [centerCrop | randomCrop]? [randomHorizontalFlip]? toTensor
 * [normalize]? — in one pass from the 8-bit image to the float output, through a 256-entry table
 * per channel that holds exactly the float32 values the separate steps give. Draws from rng in
 * the same order as the separate steps. Returns null when specs[k..] has another shape.
 */
function fusedTail(specs: readonly TransformSpec[], k: number, img: U8Image, rng: Generator, out?: Float32Array): FloatImage | null {
  let i = k;
  const first = specs[i];
  const cropSpec = first?.type === 'centerCrop' || first?.type === 'randomCrop' ? first : null;
  if (cropSpec) i++;
  const second = specs[i];
  const flipSpec = second?.type === 'randomHorizontalFlip' ? second : null;
  if (flipSpec) i++;
  if (specs[i]?.type !== 'toTensor') return null;
  i++;
  const third = specs[i];
  const norm = third?.type === 'normalize' ? third : null;
  if (norm) i++;
  if (i !== specs.length) return null;
  const C = img.channels;
  if (norm && (norm.mean.length !== C || norm.std.length !== C)) {
    throw new Error(`normalize: ${norm.mean.length} means / ${norm.std.length} stds for a ${C}-channel image`);
  }
  const box: Box = cropSpec ? cropBox(cropSpec, img, rng) : { top: 0, left: 0, height: img.height, width: img.width };
  const flip = flipSpec ? rng.uniform() < flipSpec.p : false;
  const { top, left, height: H, width: W } = box;
  const plane = H * W;
  const data = out && out.length === C * plane ? out : new Float32Array(C * plane);
  const src = img.data;
  const srcW = img.width;
  const srcH = img.height;
  // Output columns [x0, x1) read inside the image; the rest is zero padding.
  const x0 = Math.max(0, -left);
  const x1 = Math.min(W, srcW - left);
  const table = new Float32Array(256);
  for (let c = 0; c < C; c++) {
    for (let v = 0; v < 256; v++) {
      const t = Math.fround(v / 255);
      table[v] = norm ? (t - norm.mean[c]) / norm.std[c] : t;
    }
    const pad = table[0];
    for (let y = 0; y < H; y++) {
      const sy = top + y;
      const o = c * plane + y * W;
      if (sy < 0 || sy >= srcH || x1 <= x0) {
        data.fill(pad, o, o + W);
        continue;
      }
      // Output x reads source column left + x, or left + W - 1 - x when flipped.
      const rowBase = sy * srcW;
      if (!flip) {
        if (x0 > 0) data.fill(pad, o, o + x0);
        if (x1 < W) data.fill(pad, o + x1, o + W);
        for (let x = x0, s = (rowBase + left + x0) * C + c; x < x1; x++, s += C) data[o + x] = table[src[s]];
      } else {
        // Flipped, output x ↔ crop column W - 1 - x: valid where W - 1 - x lies in [x0, x1).
        const f0 = W - x1;
        const f1 = W - x0;
        if (f0 > 0) data.fill(pad, o, o + f0);
        if (f1 < W) data.fill(pad, o + f1, o + W);
        for (let x = f0, s = (rowBase + left + W - 1 - f0) * C + c; x < f1; x++, s -= C) data[o + x] = table[src[s]];
      }
    }
  }
  return { kind: 'f32', data, channels: C, height: H, width: W };
}

/** Output size of Resize(size) for a width × height image. */
export function resizeTarget(size: Size, width: number, height: number): { width: number; height: number } {
  return typeof size === 'number' ? shorterSideSize(width, height, size) : { height: size[0], width: size[1] };
}

export function hw(size: Size): [number, number] {
  return typeof size === 'number' ? [size, size] : size;
}

function needU8(spec: TransformSpec, img: Pixels): U8Image {
  if (img.kind !== 'u8') throw new Error(`${spec.type} needs an 8-bit image: put it before toTensor`);
  return img;
}

function needFloat(spec: TransformSpec, img: Pixels): FloatImage {
  if (img.kind !== 'f32') throw new Error(`${spec.type} needs a float image: put toTensor before it`);
  return img;
}

function applyOne(spec: TransformSpec, img: Pixels, rng: Generator): Pixels | Pixels[] {
  switch (spec.type) {
    case 'resize': {
      const u = needU8(spec, img);
      const out = resizeTarget(spec.size, u.width, u.height);
      return resizeBilinear(u, out.width, out.height);
    }
    case 'centerCrop':
    case 'randomCrop':
      return crop(img, cropBox(spec, img, rng));
    case 'randomResizedCrop': {
      const u = needU8(spec, img);
      const [th, tw] = hw(spec.size);
      const box = randomResizedCropBox(u.width, u.height, spec.scale, spec.ratio, rng);
      return resizeBilinear(u, tw, th, box);
    }
    case 'randomHorizontalFlip':
      return rng.uniform() < spec.p ? flipHorizontal(img) : img;
    case 'tenCrop': {
      const size = hw(spec.size);
      return [...fiveCrop(img, size), ...fiveCrop(flipHorizontal(img), size)];
    }
    case 'grayscale': {
      const u = needU8(spec, img);
      const gray = u.channels === 1 ? u : rgbToGray(u);
      return grayToChannels(gray, spec.channels);
    }
    case 'toTensor':
      return toFloat(needU8(spec, img));
    case 'normalize':
      return normalize(needFloat(spec, img), spec.mean, spec.std);
    case 'subtractMean': {
      const f = needFloat(spec, img);
      const [c, h, w] = spec.shape;
      if (f.channels !== c || f.height !== h || f.width !== w) {
        throw new Error(`subtractMean: mean image is ${c}x${h}x${w} but the image is ${f.channels}x${f.height}x${f.width}`);
      }
      const d = f.data;
      for (let i = 0; i < d.length; i++) d[i] -= spec.mean[i];
      return f;
    }
    case 'pcaLighting':
      return pcaLighting(needFloat(spec, img), spec, rng);
  }
}

/** The box a CenterCrop or RandomCrop takes (drawing from rng for RandomCrop). */
function cropBox(spec: Extract<TransformSpec, { type: 'centerCrop' | 'randomCrop' }>, img: Pixels, rng: Generator): Box {
  const [th, tw] = hw(spec.size);
  if (spec.type === 'centerCrop') return centerBox(img, th, tw);
  const pad = spec.padding ?? 0;
  const H = img.height + 2 * pad;
  const W = img.width + 2 * pad;
  if (H < th || W < tw) throw new Error(`randomCrop: crop ${th}x${tw} larger than the ${img.height}x${img.width} image`);
  const top = rng.int(H - th + 1) - pad;
  const left = rng.int(W - tw + 1) - pad;
  return { top, left, height: th, width: tw };
}

/** torchvision's CenterCrop: offsets round((H − h)/2) with Python's rounding; zero padding if larger. */
function centerBox(img: Pixels, th: number, tw: number): Box {
  const top = th > img.height ? -Math.floor((th - img.height) / 2) : roundHalfEven((img.height - th) / 2);
  const left = tw > img.width ? -Math.floor((tw - img.width) / 2) : roundHalfEven((img.width - tw) / 2);
  return { top, left, height: th, width: tw };
}

function centerCrop(img: Pixels, [th, tw]: [number, number]): Pixels {
  return crop(img, centerBox(img, th, tw));
}

/** torchvision's five_crop order: top-left, top-right, bottom-left, bottom-right, center. */
function fiveCrop(img: Pixels, [th, tw]: [number, number]): Pixels[] {
  const { height: H, width: W } = img;
  if (th > H || tw > W) throw new Error(`tenCrop: crop ${th}x${tw} larger than the ${H}x${W} image`);
  return [
    crop(img, { top: 0, left: 0, height: th, width: tw }),
    crop(img, { top: 0, left: W - tw, height: th, width: tw }),
    crop(img, { top: H - th, left: 0, height: th, width: tw }),
    crop(img, { top: H - th, left: W - tw, height: th, width: tw }),
    centerCrop(img, [th, tw]),
  ];
}

/** torchvision's RandomResizedCrop.get_params: 10 tries at a random area and log-uniform ratio, then a central fallback. */
export function randomResizedCropBox(
  width: number, height: number, scale: [number, number], ratio: [number, number], rng: Generator,
): { top: number; left: number; height: number; width: number } {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng.uniform());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  else if (inRatio > Math.max(ratio[0], ratio[1])) w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

function normalize(img: FloatImage, mean: number[], std: number[]): FloatImage {
  const C = img.channels;
  if (mean.length !== C || std.length !== C) {
    throw new Error(`normalize: ${mean.length} means / ${std.length} stds for a ${C}-channel image`);
  }
  const n = img.height * img.width;
  const d = img.data;
  for (let c = 0; c < C; c++) {
    const m = mean[c];
    const s = std[c];
    for (let i = c * n, end = i + n; i < end; i++) d[i] = (d[i] - m) / s;
  }
  return img;
}

/** AlexNet's lighting noise: add eigvec · (α ⊙ eigval) to every pixel, α ~ N(0, alphaStd) per image. */
function pcaLighting(img: FloatImage, spec: { alphaStd: number; eigval: number[]; eigvec: number[][] }, rng: Generator): FloatImage {
  if (img.channels !== 3) throw new Error(`pcaLighting: needs 3 channels, got ${img.channels}`);
  const alpha = [0, 1, 2].map(() => rng.normal() * spec.alphaStd);
  const n = img.height * img.width;
  const d = img.data;
  for (let c = 0; c < 3; c++) {
    let shift = 0;
    for (let j = 0; j < 3; j++) shift += spec.eigvec[c][j] * alpha[j] * spec.eigval[j];
    for (let i = c * n, end = i + n; i < end; i++) d[i] += shift;
  }
  return img;
}
