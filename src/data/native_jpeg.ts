// The compiled JPEG addon (build/Release/alexnet_image.node, native/image/): libjpeg-turbo —
// the decoder PIL uses — decoding only the rows and columns a crop needs, then PIL's bilinear
// resize, on the libuv thread pool. Its pixels equal PIL's bit for bit. Where it is not built the
// loader decodes through sharp instead; ALEXNET_NATIVE_JPEG=0 turns it off.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { packageRoot } from '../backend/native/addon.js';

export interface JpegAddon {
  /**
   * Decodes the box [left, top, width, height] of a JPEG and resizes it to outWidth × outHeight
   * (PIL: image.crop(box).resize(size, BILINEAR)); RGB, grey expanded. Rejects with libjpeg's
   * message for data it cannot decode, "truncated: …" when the data ends early.
   */
  decodeJpeg(bytes: Uint8Array, box: [number, number, number, number], outWidth: number, outHeight: number): Promise<{ data: Uint8Array; width: number; height: number }>;
  /** The frame header: size and colour components (1, 3 or 4). Throws for data libjpeg refuses. */
  jpegHeader(bytes: Uint8Array): { width: number; height: number; components: number };
}

let loaded: { addon: JpegAddon | null; reason: string } | null = null;

/** Loads the addon once; null with the reason when it is unavailable or turned off. */
export function jpegAddon(): { addon: JpegAddon | null; reason: string } {
  if (loaded) return loaded;
  const file = path.join(packageRoot(), 'build', 'Release', 'alexnet_image.node');
  if (process.env.ALEXNET_NATIVE_JPEG === '0') loaded = { addon: null, reason: 'turned off by ALEXNET_NATIVE_JPEG=0' };
  else if (!existsSync(file)) loaded = { addon: null, reason: `${file} is not built (run 'npm run build:native'; it needs libjpeg62-turbo-dev)` };
  else {
    try {
      loaded = { addon: createRequire(import.meta.url)(file) as JpegAddon, reason: '' };
    } catch (e) {
      loaded = { addon: null, reason: `${file} failed to load: ${(e as Error).message}` };
    }
  }
  return loaded;
}
