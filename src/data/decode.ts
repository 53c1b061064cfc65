// Image files → 8-bit pixels through sharp (libvips), matching what torchvision's loader gets
// from PIL's Image.open(path).convert("RGB"):
//  - alpha is dropped, not composited (PIL's RGBA/LA → RGB ignores alpha);
//  - grayscale and palette images are expanded to RGB (palette transparency ignored);
//  - 16-bit PNGs keep each sample's high byte (what PIL does for 16-bit RGB; for 16-bit grey PIL
//    clips values above 255 to white, which we deliberately do not copy);
//  - CMYK JPEGs are converted with PIL's naive formula R = (255-C)(255-K)/255, not through
//    ICC profiles (libvips' default), so colours agree with PIL;
//  - EXIF orientation is NOT applied by default, because PIL's Image.open does not apply it and
//    torchvision's ImageFolder/loader never calls exif_transpose; `autoOrient: true` applies it.
// Grayscale output uses PIL's convert("L") luma. Files whose header declares more than
// `maxPixels` pixels (PIL's Image.MAX_IMAGE_PIXELS by default), or whose resize would make more
// than that, are refused before decoding. A plain JPEG region of more than SHRINK_ON_LOAD_PIXELS
// pixels headed for a much smaller size is shrunk while decoding (libjpeg's DCT scaling): memory
// and time stay small, at the cost of PIL's exact pixels, which smaller images keep.
import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { DataError } from '../errors.js';
import { crop, DEFAULT_MAX_PIXELS, grayToChannels, rgbToGray, u8Image, type Box, type U8Image } from './image.js';
import { imageAddon } from './native_image.js';
import { resizeBilinear } from './resample.js';

export { DEFAULT_MAX_PIXELS };

/** Decoded JPEG regions larger than this (pixels) may be shrunk while decoding (see dctShrink). */
export const SHRINK_ON_LOAD_PIXELS = 4096 * 4096;

export interface DecodeOptions {
  /** 3 (RGB, default) or 1 (grayscale, PIL's "L"). */
  channels?: 1 | 3;
  /** Apply the EXIF orientation tag (default false: torchvision/PIL do not). */
  autoOrient?: boolean;
  /** Refuse images declaring more pixels than this, or resized to more (default: PIL's MAX_IMAGE_PIXELS). */
  maxPixels?: number;
  /**
   * Where a plain JPEG's RGB pixels go when this is exactly their size (else a new array): a
   * caller decoding image after image into one array spares an allocation (and the garbage
   * collections they set off) per image. The result's `data` is then this array.
   */
  into?: Uint8Array;
}

/** Why a file could not be used: the loader's skip/strict policy keys on these. */
export type BadInputKind = 'unreadable' | 'empty' | 'not-an-image' | 'corrupt' | 'too-large' | 'empty-class';

/** A file that cannot be decoded; `path` names it, `kind` says why. */
export class BadImageError extends DataError {
  override name = 'BadImageError';
  constructor(
    readonly path: string,
    readonly kind: BadInputKind,
    detail: string,
  ) {
    super(`${path}: ${kind}: ${detail}`);
  }
}

/**
 * Chooses, from the stored image size, a region to cut out and the size to resize it to
 * (torchvision's resized_crop: cut, then resize). Plain JPEGs go through libjpeg-turbo, which
 * decodes only that region, and PIL's resize: PIL's pixels exactly. Other files are decoded by
 * sharp; then resampler 'pillow' (default) resizes with Pillow's arithmetic, 'libvips' lets
 * libvips shrink (bilinear with antialiasing, within a fraction of a grey level of Pillow;
 * enlargements still use Pillow's arithmetic). Used by Resize and RandomResizedCrop. `window`
 * (inside width × height) keeps only that part of the resized image, as a crop after the resize
 * would (the server's Resize + CenterCrop): plain JPEGs then decode and resize only what it needs.
 */
export type RegionPicker = (
  width: number,
  height: number,
) => { box: Box; width: number; height: number; resampler?: 'pillow' | 'libvips'; window?: Box };

/** Reads and decodes one image file. Throws BadImageError for anything unusable. */
export async function decodeImageFile(path: string, options: DecodeOptions = {}, region?: RegionPicker): Promise<U8Image> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new BadImageError(path, 'unreadable', `cannot read (${code})`);
  }
  return decodeImage(bytes, path, options, region);
}

/** Decodes image bytes (JPEG, PNG, WebP, and whatever else libvips reads); `name` is for errors. */
export async function decodeImage(bytes: Uint8Array, name: string, options: DecodeOptions = {}, region?: RegionPicker): Promise<U8Image> {
  const channels = options.channels ?? 3;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new BadImageError(name, 'empty', 'zero-byte file');
  const input = { limitInputPixels: maxPixels, failOn: 'truncated' as const };
  // Common formats tell their size and colour model in their first bytes: no separate header read.
  const sniffed = sniffFormat(bytes);
  const format = sniffed.format;
  let { width, height } = sniffed;
  let cmyk = format === 'jpeg-cmyk';
  if (format === 'other' || (region && (width === 0 || height === 0))) {
    let meta: Metadata;
    try {
      meta = await sharp(bytes, input).metadata();
    } catch (err) {
      throw classify(name, err, maxPixels);
    }
    width = meta.width ?? 0;
    height = meta.height ?? 0;
    cmyk = meta.space === 'cmyk';
  }
  if (width * height > maxPixels) {
    throw new BadImageError(name, 'too-large', `${width}x${height} exceeds the ${maxPixels}-pixel limit`);
  }
  const jpeg = plainJpeg(format, bytes, channels, options) ? imageAddon().addon : null;
  if (jpeg) {
    const r: ReturnType<RegionPicker> = region ? region(width, height) : { box: { left: 0, top: 0, width, height }, width, height };
    checkTarget(name, width, height, r, maxPixels);
    try {
      const box = r.box;
      const w = r.window;
      const at: [number, number, number, number] = [box.left, box.top, box.width, box.height];
      const shrink = dctShrink(box, r.width, r.height);
      const into = options.into?.length === (w ? w.width * w.height : r.width * r.height) * 3 ? options.into : undefined;
      // Five arguments without a window: an addon built before windows existed still takes them.
      const out = w
        ? await jpeg.decodeJpeg(bytes, at, r.width, r.height, shrink, [w.left, w.top, w.width, w.height], into)
        : into
          ? await jpeg.decodeJpeg(bytes, at, r.width, r.height, shrink, undefined, into)
          : await jpeg.decodeJpeg(bytes, at, r.width, r.height, shrink);
      return u8Image(out.data, out.width, out.height, 3);
    } catch (err) {
      throw new BadImageError(name, 'corrupt', describe(err));
    }
  }
  try {
    let pipeline = sharp(bytes, input);
    if (options.autoOrient) pipeline = pipeline.rotate();
    // What is left to do in TypeScript after decoding: a region under autoOrient (the stored size
    // is not the displayed one), Pillow's resize, or an enlargement (libvips enlarges differently).
    let post: ((img: U8Image) => U8Image) | null = null;
    let keep: Box | undefined;
    if (region && options.autoOrient) {
      post = (img) => {
        const r = region(img.width, img.height);
        keep = r.window;
        return resizeBilinear(img, r.width, r.height, r.box);
      };
    } else if (region) {
      // The picker may draw random numbers: it is called exactly once per image.
      const r = region(width, height);
      keep = r.window;
      checkTarget(name, width, height, r, maxPixels);
      const whole = r.box.left === 0 && r.box.top === 0 && r.box.width === width && r.box.height === height;
      if (r.resampler !== 'libvips') post = (img) => resizeBilinear(img, r.width, r.height, r.box);
      else {
        // Without an extract, libvips may also shrink JPEGs while decoding them (DCT scaling).
        if (!whole) pipeline = pipeline.extract({ left: r.box.left, top: r.box.top, width: r.box.width, height: r.box.height });
        if (r.width > r.box.width || r.height > r.box.height) post = (img) => resizeBilinear(img, r.width, r.height);
        else if (r.width !== r.box.width || r.height !== r.box.height)
          pipeline = pipeline.resize(r.width, r.height, { kernel: 'linear', fit: 'fill' });
      }
    }
    const finish = (img: U8Image): U8Image => {
      const resized = post ? post(img) : img;
      return keep ? crop(resized, keep) : resized;
    };
    if (cmyk) {
      const { data, info } = await pipeline
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      const rgb = cmykToRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
      return finish(channels === 1 ? rgbToGray(rgb) : rgb);
    }
    // Grey inputs (8 or 16 bit, with or without alpha) become three equal channels here.
    const { data, info } = await pipeline.removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const img = u8Image(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
    if (img.channels === 1) return finish(grayToChannels(img, channels));
    if (img.channels !== 3) throw new Error(`decoded to ${img.channels} channels`);
    return finish(channels === 1 ? rgbToGray(img) : img);
  } catch (err) {
    throw classify(name, err, maxPixels);
  }
}

/** A JPEG that libjpeg-turbo's region decoder takes (RGB output, no EXIF rotation, complete). */
function plainJpeg(format: string, bytes: Uint8Array, channels: number, options: DecodeOptions): boolean {
  return format === 'jpeg' && channels === 3 && !options.autoOrient && endsWithEoi(bytes);
}

/**
 * Whether decodeImage decodes `bytes` in the image addon (a plain JPEG, RGB): all the work then
 * happens on the libuv pool, the calling thread only sniffs the header and fills the output.
 */
export function decodesNatively(bytes: Uint8Array, options: DecodeOptions = {}): boolean {
  return plainJpeg(sniffFormat(bytes).format, bytes, options.channels ?? 3, options) && imageAddon().addon !== null;
}

/** Refuses a resize whose output would exceed the pixel limit (a 1×65500 strip resized to 256 wide). */
function checkTarget(name: string, width: number, height: number, r: { width: number; height: number }, maxPixels: number): void {
  if (r.width * r.height > maxPixels) {
    throw new BadImageError(
      name,
      'too-large',
      `resizing ${width}x${height} to ${r.width}x${r.height} would exceed the ${maxPixels}-pixel limit`,
    );
  }
}

/**
 * The DCT scale denominator (1, 2, 4 or 8) for decoding `box` on its way to outWidth × outHeight:
 * 1 (PIL's exact pixels) unless the box has more than SHRINK_ON_LOAD_PIXELS pixels; then the
 * largest that still leaves at least twice the target size for the bilinear resize (Pillow's
 * reducing_gap of 2).
 */
export function dctShrink(box: Box, outWidth: number, outHeight: number): number {
  if (box.width * box.height <= SHRINK_ON_LOAD_PIXELS) return 1;
  let s = 1;
  while (s < 8 && box.width >= 2 * s * 2 * outWidth && box.height >= 2 * s * 2 * outHeight) s *= 2;
  return s;
}

/**
 * Whether the data ends with the EOI marker (FF D9). The region decoder stops after the rows it
 * needs, so it would not notice a file cut short below them; those go to the full decoder,
 * which reports truncation as PIL does. (Files with bytes after EOI take that path too.)
 */
function endsWithEoi(b: Uint8Array): boolean {
  return b.length >= 4 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9;
}

function classify(name: string, err: unknown, maxPixels: number): BadImageError {
  if (err instanceof BadImageError) return err;
  const msg = describe(err);
  if (/pixel limit/i.test(msg)) return new BadImageError(name, 'too-large', `${msg} (limit ${maxPixels} pixels)`);
  if (/unsupported image format/i.test(msg)) return new BadImageError(name, 'not-an-image', msg);
  return new BadImageError(name, 'corrupt', msg);
}

/**
 * PNG, WebP and JPEG by magic bytes, with the stored size where the header gives it (PNG's IHDR,
 * JPEG's frame header; 0 otherwise) and, for JPEG, whether it has 4 components (CMYK/YCCK).
 * Anything else, or a JPEG whose markers cannot be walked, is 'other' (libvips decides).
 */
export function sniffFormat(b: Uint8Array): { format: 'png' | 'webp' | 'jpeg' | 'jpeg-cmyk' | 'other'; width: number; height: number } {
  const other = { format: 'other' as const, width: 0, height: 0 };
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { format: 'png', width: v.getUint32(16, false), height: v.getUint32(20, false) };
  }
  if (
    b.length >= 12 &&
    b[0] === 0x52 &&
    b[1] === 0x49 &&
    b[2] === 0x46 &&
    b[3] === 0x46 &&
    b[8] === 0x57 &&
    b[9] === 0x45 &&
    b[10] === 0x42 &&
    b[11] === 0x50
  ) {
    return { format: 'webp', width: 0, height: 0 };
  }
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return other;
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) return other;
    const marker = b[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      pos += 2;
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 10 > b.length) return other;
      const height = (b[pos + 5]! << 8) | b[pos + 6]!;
      const width = (b[pos + 7]! << 8) | b[pos + 8]!;
      const comps = b[pos + 9];
      if (comps === 4) return { format: 'jpeg-cmyk', width, height };
      return comps === 1 || comps === 3 ? { format: 'jpeg', width, height } : other;
    }
    if (marker === 0xd9 || marker === 0xda) return other; // image data before any frame header
    pos += 2 + ((b[pos + 2]! << 8) | b[pos + 3]!);
  }
  return other;
}

/** Pillow's cmyk2rgb: each of R, G, B = (255 − K) − C·(255 − K)/255, in Pillow's integer rounding. */
function cmykToRgb(cmyk: Uint8Array, width: number, height: number, channels: number): U8Image {
  if (channels !== 4) throw new Error(`CMYK image decoded to ${channels} channels`);
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    const nk = 255 - cmyk[p * 4 + 3]!;
    for (let c = 0; c < 3; c++) {
      const t = cmyk[p * 4 + c]! * nk + 128; // MULDIV255
      const v = nk - (((t >> 8) + t) >> 8);
      out[p * 3 + c] = v < 0 ? 0 : v;
    }
  }
  return u8Image(out, width, height, 3);
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n')[0] ?? '').trim();
}
