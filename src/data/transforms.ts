// Applying transforms (see transform_spec.ts for the TransformSpec data and the T builders).
// Randomness comes only from the Generator passed in (the loader derives one per sample from
// (seed, epoch, index)), so the same seed gives the same augmentations anywhere.
// Semantics follow torchvision 0.14 on PIL images; the paper's mean-image subtraction and PCA
// lighting follow Krizhevsky et al. 2012 (§4.1).
import type { Generator } from '../random.js';
import { centerBox, cropBox, randomResizedCropBox } from './crop_boxes.js';
import { fusedTail } from './fused_tail.js';
import { crop, flipHorizontal, grayToChannels, rgbToGray, toFloat, type FloatImage, type Pixels, type U8Image } from './image.js';
import { resizeBilinear } from './resample.js';
import { hw, resizeTarget, type TransformSpec } from './transform_spec.js';
import { ShapeError } from '../errors.js';

export * from './transform_spec.js';
export { randomResizedCropBox, cropBox, centerBox } from './crop_boxes.js';

/**
 * Applies `specs` in order. After a TenCrop the rest applies to each crop; the result is then a list.
 * `out`, when given, may receive the final float image (a view of a batch), saving a copy: check
 * `result.data === out`.
 */
export function applyTransforms(specs: readonly TransformSpec[], input: Pixels, rng: Generator, out?: Float32Array): Pixels | Pixels[] {
  let cur: Pixels | Pixels[] = input;
  for (const [k, spec] of specs.entries()) {
    if (!Array.isArray(cur) && cur.kind === 'u8') {
      const fused = fusedTail(specs, k, cur, rng, out);
      if (fused) return fused;
    }
    cur = Array.isArray(cur) ? cur.flatMap((p) => applyOne(spec, p, rng)) : applyOne(spec, cur, rng);
  }
  return cur;
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
        throw new ShapeError(`subtractMean: mean image is ${c}x${h}x${w} but the image is ${f.channels}x${f.height}x${f.width}`);
      }
      const d = f.data;
      for (let i = 0; i < d.length; i++) d[i]! -= spec.mean[i]!;
      return f;
    }
    case 'pcaLighting':
      return pcaLighting(needFloat(spec, img), spec, rng);
  }
}

function centerCrop(img: Pixels, [th, tw]: [number, number]): Pixels {
  return crop(img, centerBox(img, th, tw));
}

/** torchvision's five_crop order: top-left, top-right, bottom-left, bottom-right, center. */
function fiveCrop(img: Pixels, [th, tw]: [number, number]): Pixels[] {
  const { height: H, width: W } = img;
  if (th > H || tw > W) throw new ShapeError(`tenCrop: crop ${th}x${tw} larger than the ${H}x${W} image`);
  return [
    crop(img, { top: 0, left: 0, height: th, width: tw }),
    crop(img, { top: 0, left: W - tw, height: th, width: tw }),
    crop(img, { top: H - th, left: 0, height: th, width: tw }),
    crop(img, { top: H - th, left: W - tw, height: th, width: tw }),
    centerCrop(img, [th, tw]),
  ];
}

function normalize(img: FloatImage, mean: number[], std: number[]): FloatImage {
  const C = img.channels;
  if (mean.length !== C || std.length !== C) {
    throw new ShapeError(`normalize: ${mean.length} means / ${std.length} stds for a ${C}-channel image`);
  }
  const n = img.height * img.width;
  const d = img.data;
  for (let c = 0; c < C; c++) {
    const m = mean[c]!;
    const s = std[c]!;
    for (let i = c * n, end = i + n; i < end; i++) d[i] = (d[i]! - m) / s;
  }
  return img;
}

/** AlexNet's lighting noise: add eigvec · (α ⊙ eigval) to every pixel, α ~ N(0, alphaStd) per image. */
function pcaLighting(img: FloatImage, spec: { alphaStd: number; eigval: number[]; eigvec: number[][] }, rng: Generator): FloatImage {
  if (img.channels !== 3) throw new ShapeError(`pcaLighting: needs 3 channels, got ${img.channels}`);
  const alpha = [0, 1, 2].map(() => rng.normal() * spec.alphaStd);
  const n = img.height * img.width;
  const d = img.data;
  for (let c = 0; c < 3; c++) {
    let shift = 0;
    for (let j = 0; j < 3; j++) shift += spec.eigvec[c]![j]! * alpha[j]! * spec.eigval[j]!;
    for (let i = c * n, end = i + n; i < end; i++) d[i]! += shift;
  }
  return img;
}
