// The common end of a pipeline in one pass: [crop]? [flip]? toTensor [normalize]? from 8-bit HWC
// pixels straight into the float CHW output (often a slot of the batch array). Same values and
// same random draws as the separate steps; only faster (one read, one write, no temporaries;
// in C++ where the image addon is built).
import type { Generator } from '../random.js';
import { cropBox } from './crop_boxes.js';
import { imageAddon } from '#image-addon';
import type { Box, FloatImage, U8Image } from './image.js';
import type { TransformSpec } from './transform_spec.js';
import { ShapeError } from '../errors.js';

/**
 * The common end of a pipeline — [centerCrop | randomCrop]? [randomHorizontalFlip]? toTensor
 * [normalize]? — in one pass from the 8-bit image to the float output, through a 256-entry table
 * per channel that holds exactly the float32 values the separate steps give. Draws from rng in
 * the same order as the separate steps. Returns null when specs[k..] has another shape.
 */
export function fusedTail(specs: readonly TransformSpec[], k: number, img: U8Image, rng: Generator, out?: Float32Array): FloatImage | null {
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
    throw new ShapeError(`normalize: ${norm.mean.length} means / ${norm.std.length} stds for a ${C}-channel image`);
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
  // ToTensor (+ Normalize) of every byte value, per channel: exactly the separate steps' floats.
  const table = new Float32Array(C * 256);
  for (let c = 0; c < C; c++) {
    for (let v = 0; v < 256; v++) {
      const t = Math.fround(v / 255);
      table[c * 256 + v] = norm ? (t - norm.mean[c]!) / norm.std[c]! : t;
    }
  }
  const addon = imageAddon().addon;
  if (addon) {
    addon.toTensorU8(src, srcW, srcH, C, [top, left, H, W], flip, table, data);
    return { kind: 'f32', data, channels: C, height: H, width: W };
  }
  for (let c = 0; c < C; c++) {
    const t0 = c * 256;
    const pad = table[t0]!;
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
        for (let x = x0, s = (rowBase + left + x0) * C + c; x < x1; x++, s += C) data[o + x] = table[t0 + src[s]!]!;
      } else {
        // Flipped, output x ↔ crop column W - 1 - x: valid where W - 1 - x lies in [x0, x1).
        const f0 = W - x1;
        const f1 = W - x0;
        if (f0 > 0) data.fill(pad, o, o + f0);
        if (f1 < W) data.fill(pad, o + f1, o + W);
        for (let x = f0, s = (rowBase + left + W - 1 - f0) * C + c; x < f1; x++, s -= C) data[o + x] = table[t0 + src[s]!]!;
      }
    }
  }
  return { kind: 'f32', data, channels: C, height: H, width: W };
}
