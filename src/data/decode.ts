// Image files → 8-bit pixels through sharp (libvips), matching what torchvision's loader gets
// from PIL's Image.open(path).convert("RGB"):
//  - alpha is dropped, not composited (PIL's RGBA/LA → RGB ignores alpha);
//  - grayscale and palette images are expanded to RGB (palette transparency ignored);
//  - 16-bit PNGs keep each sample's high byte (what PIL does for 16-bit RGB);
//  - CMYK JPEGs are converted with PIL's naive formula R = (255-C)(255-K)/255, not through
//    ICC profiles (libvips' default), so colours agree with PIL;
//  - EXIF orientation is NOT applied by default, because PIL's Image.open does not apply it and
//    torchvision's ImageFolder/loader never calls exif_transpose; `autoOrient: true` applies it.
// Grayscale output uses PIL's convert("L") luma. Files whose header declares more than
// `maxPixels` pixels are refused before decoding (PIL's DecompressionBombError threshold by default).
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { grayToChannels, rgbToGray, u8Image, type U8Image } from './image.js';

/** PIL raises DecompressionBombError above 2 × Image.MAX_IMAGE_PIXELS (89,478,485). */
export const DEFAULT_MAX_PIXELS = 2 * 89_478_485;

export interface DecodeOptions {
  /** 3 (RGB, default) or 1 (grayscale, PIL's "L"). */
  channels?: 1 | 3;
  /** Apply the EXIF orientation tag (default false: torchvision/PIL do not). */
  autoOrient?: boolean;
  /** Refuse images declaring more pixels than this (default: PIL's bomb limit). */
  maxPixels?: number;
}

/** Why a file could not be used: the loader's skip/strict policy keys on these. */
export type BadInputKind = 'unreadable' | 'empty' | 'not-an-image' | 'corrupt' | 'too-large' | 'empty-class';

/** A file that cannot be decoded; `path` names it, `kind` says why. */
export class BadImageError extends Error {
  override name = 'BadImageError';
  constructor(
    readonly path: string,
    readonly kind: BadInputKind,
    detail: string,
  ) {
    super(`${path}: ${kind}: ${detail}`);
  }
}

/** Reads and decodes one image file. Throws BadImageError for anything unusable. */
export async function decodeImageFile(path: string, options: DecodeOptions = {}): Promise<U8Image> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BadImageError(path, 'unreadable', `cannot read (${code})`);
  }
  return decodeImage(bytes, path, options);
}

/** Decodes image bytes (JPEG, PNG, WebP, and whatever else libvips reads); `name` is for errors. */
export async function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}): Promise<U8Image> {
  const channels = options.channels ?? 3;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new BadImageError(name, 'empty', 'zero-byte file');
  const input = { limitInputPixels: maxPixels, failOn: 'truncated' as const };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, input).metadata();
  } catch (err) {
    const msg = describe(err);
    if (/pixel limit/i.test(msg)) throw new BadImageError(name, 'too-large', `${msg} (limit ${maxPixels} pixels)`);
    throw new BadImageError(name, /unsupported image format/i.test(msg) ? 'not-an-image' : 'corrupt', msg);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new BadImageError(name, 'too-large', `${width}x${height} exceeds the ${maxPixels}-pixel limit`);
  }
  try {
    let pipeline = sharp(bytes, input);
    if (options.autoOrient) pipeline = pipeline.rotate();
    if (meta.space === 'cmyk') {
      const { data, info } = await pipeline
        .pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      const rgb = cmykToRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
      return channels === 1 ? rgbToGray(rgb) : rgb;
    }
    const gray = meta.space === 'b-w' || meta.space === 'grey16';
    const { data, info } = await pipeline
      .removeAlpha()
      .toColourspace(gray ? 'b-w' : 'srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const img = u8Image(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
    if (img.channels === 1) return grayToChannels(img, channels);
    if (img.channels !== 3) throw new Error(`decoded to ${img.channels} channels`);
    return channels === 1 ? rgbToGray(img) : img;
  } catch (err) {
    if (err instanceof BadImageError) throw err;
    throw new BadImageError(name, 'corrupt', describe(err));
  }
}

/** Pillow's cmyk2rgb: each of R, G, B = (255 − K) − C·(255 − K)/255, in Pillow's integer rounding. */
function cmykToRgb(cmyk: Uint8Array, width: number, height: number, channels: number): U8Image {
  if (channels !== 4) throw new Error(`CMYK image decoded to ${channels} channels`);
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const nk = 255 - cmyk[p * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[p * 4 + c] * nk + 128; // MULDIV255
      const v = nk - (((t >> 8) + t) >> 8);
      out[p * 3 + c] = v < 0 ? 0 : v;
    }
  }
  return u8Image(out, width, height, 3);
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}
