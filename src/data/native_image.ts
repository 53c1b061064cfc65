// The compiled image addon (build/Release/alexnet_image.node, native/image/): libjpeg-turbo —
// the decoder PIL uses — decoding only the rows and columns a crop needs, then PIL's bilinear
// resize, on the libuv thread pool (its pixels equal PIL's bit for bit); and the loader's last
// step, crop + flip + ToTensor/Normalize into the batch. Where it is not built, JPEGs go through
// sharp and the last step runs in TypeScript, with the same results; ALEXNET_NATIVE_IMAGE=0
// turns it off.
import { loadNativeAddon } from '../native_addons.js';

export interface ImageAddon {
  /**
   * Decodes the box [left, top, width, height] of a JPEG and resizes it to outWidth × outHeight
   * (PIL: image.crop(box).resize(size, BILINEAR)); RGB, grey expanded. Rejects with libjpeg's
   * message for data it cannot decode, "truncated: …" when the data ends early. scaleDenom 2, 4
   * or 8 shrinks the image by that factor while decoding (libjpeg's DCT scaling; not PIL's pixels).
   * `window` [left, top, width, height] (inside the output) returns only that part of the resized
   * image, the same pixels, decoding and resizing only the source it reads. `into`, exactly the
   * result's size (width × height × 3), receives the pixels and is returned as `data`.
   */
  decodeJpeg(
    bytes: Uint8Array,
    box: [number, number, number, number],
    outWidth: number,
    outHeight: number,
    scaleDenom?: number,
    window?: [number, number, number, number],
    into?: Uint8Array,
  ): Promise<{ data: Uint8Array; width: number; height: number }>;
  /** The frame header: size and colour components (1, 3 or 4). Throws for data libjpeg refuses. */
  jpegHeader(bytes: Uint8Array): { width: number; height: number; components: number };
  /**
   * out[c][y][x] = table[c·256 + src[top + y][left + x][c]] (x mirrored when `flip`), and
   * table[c·256] outside the image: src is HWC bytes, out CHW floats of the crop's size.
   */
  toTensorU8(
    src: Uint8Array,
    srcW: number,
    srcH: number,
    channels: number,
    box: [number, number, number, number],
    flip: boolean,
    table: Float32Array,
    out: Float32Array,
  ): void;
}

let loaded: { addon: ImageAddon | null; reason: string } | null = null;

/** Loads the addon once; null with the reason when it is unavailable or turned off. */
export function imageAddon(): { addon: ImageAddon | null; reason: string } {
  if (loaded) return loaded;
  loaded =
    process.env.ALEXNET_NATIVE_IMAGE === '0'
      ? { addon: null, reason: 'turned off by ALEXNET_NATIVE_IMAGE=0' }
      : loadNativeAddon<ImageAddon>('alexnet_image');
  return loaded;
}
