// The image addon where there is none (a browser bundle: the "browser"/"default" conditions of
// '#image-addon' in package.json): JPEG decoding and the loader's last step run in TypeScript.
import type { ImageAddon } from './native_image.js';

export function imageAddon(): { addon: ImageAddon | null; reason: string } {
  return { addon: null, reason: 'there is no native image addon on this platform' };
}
