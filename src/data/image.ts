// In-memory images as the pipeline passes them around: U8Image is decoded bytes, HWC
// (height × width × channels, row-major, like PIL and sharp); FloatImage is a tensor-shaped CHW
// float32 image (after ToTensor). Crops, flips and channel conversions for both live here.
import { ShapeError } from '../errors.js';

/**
 * The most pixels an image may have, decoded or resized (PIL's Image.MAX_IMAGE_PIXELS, the
 * decompression-bomb threshold: about 268 MB of RGB bytes).
 */
export const DEFAULT_MAX_PIXELS = 89_478_485;

/** Decoded 8-bit pixels, layout [H, W, C]. */
export interface U8Image {
  readonly kind: 'u8';
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Float pixels, layout [C, H, W] (what ToTensor produces). */
export interface FloatImage {
  readonly kind: 'f32';
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export type Pixels = U8Image | FloatImage;

export function u8Image(data: Uint8Array, width: number, height: number, channels: number): U8Image {
  if (data.length !== width * height * channels) {
    throw new Error(`u8Image: ${data.length} bytes for ${height}x${width}x${channels}`);
  }
  return { kind: 'u8', data, width, height, channels };
}

export function floatImage(data: Float32Array, channels: number, height: number, width: number): FloatImage {
  if (data.length !== width * height * channels) {
    throw new Error(`floatImage: ${data.length} floats for ${channels}x${height}x${width}`);
  }
  return { kind: 'f32', data, channels, height, width };
}

/** A box inside an image: top-left corner (top, left) and its size. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Crops a box out of an image. Parts of the box outside the image are filled with 0 (as
 * torchvision pads when the crop is larger than the image).
 */
export function crop<P extends Pixels>(img: P, box: Box): P {
  const { top, left, height, width } = box;
  const C = img.channels;
  if (img.kind === 'u8') {
    const out = new Uint8Array(height * width * C);
    const rowLen = img.width * C;
    for (let y = 0; y < height; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= img.height) continue;
      const x0 = Math.max(0, -left);
      const x1 = Math.min(width, img.width - left);
      if (x1 <= x0) continue;
      const src = sy * rowLen + (left + x0) * C;
      out.set(img.data.subarray(src, src + (x1 - x0) * C), (y * width + x0) * C);
    }
    return u8Image(out, width, height, C) as P;
  }
  const out = new Float32Array(C * height * width);
  const H = img.height;
  const W = img.width;
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < height; y++) {
      const sy = top + y;
      if (sy < 0 || sy >= H) continue;
      const x0 = Math.max(0, -left);
      const x1 = Math.min(width, W - left);
      if (x1 <= x0) continue;
      const src = (c * H + sy) * W + left + x0;
      out.set(img.data.subarray(src, src + (x1 - x0)), (c * height + y) * width + x0);
    }
  }
  return floatImage(out, C, height, width) as P;
}

/** Mirrors an image left–right (a new image). */
export function flipHorizontal<P extends Pixels>(img: P): P {
  const { width: W, height: H, channels: C } = img;
  if (img.kind === 'u8') {
    const src = img.data;
    const out = new Uint8Array(src.length);
    if (C === 3) {
      for (let y = 0; y < H; y++) {
        const row = y * W * 3;
        for (let x = 0, d = row + (W - 1) * 3; x < W; x++, d -= 3) {
          const s = row + x * 3;
          out[d] = src[s]!;
          out[d + 1] = src[s + 1]!;
          out[d + 2] = src[s + 2]!;
        }
      }
      return u8Image(out, W, H, C) as P;
    }
    for (let y = 0; y < H; y++) {
      const row = y * W * C;
      for (let x = 0; x < W; x++) {
        const s = row + x * C;
        const d = row + (W - 1 - x) * C;
        for (let c = 0; c < C; c++) out[d + c] = src[s + c]!;
      }
    }
    return u8Image(out, W, H, C) as P;
  }
  const src = img.data;
  const out = new Float32Array(src.length);
  for (let r = 0; r < C * H; r++) {
    const row = r * W;
    for (let x = 0; x < W; x++) out[row + W - 1 - x] = src[row + x]!;
  }
  return floatImage(out, C, H, W) as P;
}

/** PIL's RGB → L conversion (ITU-R 601-2 luma, fixed point exactly as Pillow rounds it). */
export function rgbToGray(img: U8Image): U8Image {
  if (img.channels !== 3) throw new ShapeError(`rgbToGray: expected 3 channels, got ${img.channels}`);
  const n = img.width * img.height;
  const src = img.data;
  const out = new Uint8Array(n);
  for (let p = 0, s = 0; p < n; p++, s += 3) {
    out[p] = (src[s]! * 19595 + src[s + 1]! * 38470 + src[s + 2]! * 7471 + 0x8000) >>> 16;
  }
  return u8Image(out, img.width, img.height, 1);
}

/** Repeats a single channel `channels` times (L → RGB as PIL does). */
export function grayToChannels(img: U8Image, channels: number): U8Image {
  if (img.channels !== 1) throw new ShapeError(`grayToChannels: expected 1 channel, got ${img.channels}`);
  if (channels === 1) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * channels);
  for (let p = 0; p < n; p++) {
    const v = img.data[p]!;
    for (let c = 0; c < channels; c++) out[p * channels + c] = v;
  }
  return u8Image(out, img.width, img.height, channels);
}

/** HWC uint8 → CHW float32 in [0, 1] (torchvision's ToTensor: byte / 255). */
export function toFloat(img: U8Image): FloatImage {
  const { width: W, height: H, channels: C } = img;
  const n = W * H;
  const src = img.data;
  const out = new Float32Array(n * C);
  for (let c = 0; c < C; c++) {
    const base = c * n;
    for (let p = 0, s = c; p < n; p++, s += C) out[base + p] = src[s]! / 255;
  }
  return floatImage(out, C, H, W);
}

/** Python's round(): halves go to the even neighbour (torchvision's center crop uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
