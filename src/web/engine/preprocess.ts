// The page's image preprocessing, the same as `alexnet predict`'s for a model without stored
// transforms (src/train/predict.ts's evalTransformsFor): shorter side resized to
// max(256, size·256/224) with Pillow's bilinear filter, center crop, ImageNet's mean and std (one
// grey channel with the means of the three for a 1-channel model). Only the decoding is the
// browser's (createImageBitmap), so a JPEG may differ from libjpeg-turbo's pixels by a grey level.
import { rgbToGray, u8Image, type Pixels } from '../../data/image.js';
import { torchvisionPreset } from '../../data/presets.js';
import { applyTransforms } from '../../data/transforms.js';
import { DataError } from '../../errors.js';
import { Generator } from '../../random.js';

/** The evaluation transforms for a model taking `inChannels` × `inputSize`². */
export function evalTransforms(inChannels: number, inputSize: number): ReturnType<typeof torchvisionPreset> {
  const gray = inChannels === 1;
  return torchvisionPreset('eval', {
    size: inputSize,
    resize: Math.max(256, Math.round((inputSize * 256) / 224)),
    mean: gray ? [0.449] : undefined,
    std: gray ? [0.226] : undefined,
  });
}

/** RGBA pixels (a canvas's) → the model's input [C, H, W]. */
export function preprocessRgba(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  inChannels: number,
  inputSize: number,
): Float32Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    rgb[3 * p] = rgba[4 * p]!;
    rgb[3 * p + 1] = rgba[4 * p + 1]!;
    rgb[3 * p + 2] = rgba[4 * p + 2]!;
  }
  const img = inChannels === 1 ? rgbToGray(u8Image(rgb, width, height, 3)) : u8Image(rgb, width, height, 3);
  const out = applyTransforms(evalTransforms(inChannels, inputSize), img, new Generator(0)) as Pixels;
  if (out.kind !== 'f32' || out.channels !== inChannels) throw new Error('preprocess: the transforms did not end in a tensor');
  return out.data;
}

/** Decodes an image file in the worker; anything the browser cannot decode is a DataError naming it. */
export async function decodeBlob(blob: Blob, name: string): Promise<{ rgba: Uint8ClampedArray; width: number; height: number }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new DataError(`${name} is not an image this browser can decode (JPEG, PNG, WebP, GIF or BMP)`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context in this worker');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return { rgba: ctx.getImageData(0, 0, width, height).data, width, height };
}
