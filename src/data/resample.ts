// Bilinear resizing with antialiasing, computed exactly as Pillow 9 does for 8-bit images
// (ImagingResample: a separable triangle filter whose support widens with the downscale factor,
// 22-bit fixed-point weights, a horizontal pass then a vertical pass, each rounded and clipped to
// uint8). torchvision's Resize on a PIL image calls exactly this, so matching it bit for bit is
// what makes our eval preprocessing agree with torchvision's.
import { DataError } from '../errors.js';
import { crop, DEFAULT_MAX_PIXELS, u8Image, type Box, type U8Image } from './image.js';

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const ONE = 1 << PRECISION_BITS;

/** Per output position: first input index, tap count, and fixed-point weights (ksize per row). */
interface Coeffs {
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
  ksize: number;
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1). */
function coefficients(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const pre = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * ss);
      pre[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const k = ww !== 0 ? pre[x]! / ww : pre[x]!;
      weights[xx * ksize + x] = k < 0 ? Math.trunc(-0.5 + k * ONE) : Math.trunc(0.5 + k * ONE);
    }
    start[xx] = xmin;
    count[xx] = xmax;
  }
  return { start, count, weights, ksize };
}

function clip8(ss: number): number {
  // ss is an int32 sum; ONE * 256 = 2^30.
  if (ss >= 1 << 30) return 255;
  if (ss <= 0) return 0;
  return ss >> PRECISION_BITS;
}

/**
 * Resizes `img` to outWidth × outHeight with Pillow's bilinear filter. With a box, the box is cut
 * out first and then resized, as torchvision's resized_crop (RandomResizedCrop) does with PIL:
 * the filter never reads pixels outside the box. An output of more than `maxPixels` pixels is a
 * DataError (Resize(256) of a 1×65500 strip would be 256×16768000).
 */
export function resizeBilinear(img: U8Image, outWidth: number, outHeight: number, box?: Box, maxPixels = DEFAULT_MAX_PIXELS): U8Image {
  if (outWidth * outHeight > maxPixels) {
    throw new DataError(
      `resizing a ${img.width}x${img.height} image to ${outWidth}x${outHeight} would exceed the ${maxPixels}-pixel limit`,
    );
  }
  if (box) {
    if (box.top < 0 || box.left < 0 || box.top + box.height > img.height || box.left + box.width > img.width) {
      throw new Error(`resizeBilinear: box ${JSON.stringify(box)} outside ${img.width}x${img.height}`);
    }
    const whole = box.top === 0 && box.left === 0 && box.height === img.height && box.width === img.width;
    if (!whole) return resizeBilinear(crop(img, box), outWidth, outHeight, undefined, maxPixels);
  }
  const C = img.channels;
  if (outWidth < 1 || outHeight < 1) throw new Error(`resizeBilinear: bad output size ${outWidth}x${outHeight}`);
  const needH = outWidth !== img.width;
  const needV = outHeight !== img.height;
  if (!needH && !needV) return u8Image(img.data.slice(), img.width, img.height, C);

  const cv = coefficients(img.height, outHeight);
  // Rows of the source that the vertical pass reads.
  const yFirst = cv.start[0]!;
  const yLast = cv.start[outHeight - 1]! + cv.count[outHeight - 1]!;

  let src = img.data;
  let srcW = img.width;
  let rowOffset = 0; // source row index that row 0 of `src` corresponds to
  if (needH) {
    const ch = coefficients(img.width, outWidth);
    const rows = yLast - yFirst;
    const tmp = new Uint8Array(rows * outWidth * C);
    horizontal(img.data, img.width, C, yFirst, rows, ch, outWidth, tmp);
    src = tmp;
    srcW = outWidth;
    rowOffset = yFirst;
  }
  if (!needV) return u8Image(src, srcW, outHeight, C);
  const out = new Uint8Array(outHeight * srcW * C);
  vertical(src, srcW, C, rowOffset, cv, outHeight, out);
  return u8Image(out, srcW, outHeight, C);
}

function horizontal(src: Uint8Array, srcW: number, C: number, y0: number, rows: number, k: Coeffs, outW: number, out: Uint8Array): void {
  // Sums stay below 2^31 (weights sum to 2^22, samples ≤ 255), so int32 arithmetic is exact.
  const { start, count, weights, ksize } = k;
  for (let y = 0; y < rows; y++) {
    const srow = (y0 + y) * srcW * C;
    const orow = y * outW * C;
    for (let xx = 0; xx < outW; xx++) {
      const n = count[xx]!;
      const kb = xx * ksize;
      const sb = srow + start[xx]! * C;
      if (C === 3) {
        let s0 = HALF,
          s1 = HALF,
          s2 = HALF;
        for (let x = 0, p = sb; x < n; x++, p += 3) {
          const w = weights[kb + x]!;
          s0 = (s0 + Math.imul(src[p]!, w)) | 0;
          s1 = (s1 + Math.imul(src[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(src[p + 2]!, w)) | 0;
        }
        const o = orow + xx * 3;
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
      } else {
        for (let c = 0; c < C; c++) {
          let s = HALF;
          for (let x = 0; x < n; x++) s = (s + Math.imul(src[sb + x * C + c]!, weights[kb + x]!)) | 0;
          out[orow + xx * C + c] = clip8(s);
        }
      }
    }
  }
}

function vertical(src: Uint8Array, W: number, C: number, rowOffset: number, k: Coeffs, outH: number, out: Uint8Array): void {
  const { start, count, weights, ksize } = k;
  const rowLen = W * C;
  for (let yy = 0; yy < outH; yy++) {
    const n = count[yy]!;
    const kb = yy * ksize;
    const base = (start[yy]! - rowOffset) * rowLen;
    const orow = yy * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let s = HALF;
      for (let y = 0, p = base + i; y < n; y++, p += rowLen) s = (s + Math.imul(src[p]!, weights[kb + y]!)) | 0;
      out[orow + i] = clip8(s);
    }
  }
}

/** torchvision's Resize(size) output size: shorter side to `size`, longer side truncated. */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) {
    if (width === size) return { width, height };
    return { width: size, height: Math.trunc((size * height) / width) };
  }
  if (height === size) return { width, height };
  return { width: Math.trunc((size * width) / height), height: size };
}
