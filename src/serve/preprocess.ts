// Image bytes → the model's input, by the same decoder and preprocessing as `alexnet predict`
// (decodeImage, then inputFromPixels) to the same values. A leading Resize is done by the decoder,
// as the DataLoader does it: a JPEG is decoded and resized in one native call (libjpeg-turbo and
// PIL's bilinear, the same pixels as decoding and then resizing in TypeScript, several times
// faster). A CenterCrop right after it is a window of that resize: the decoder makes only the
// crop's pixels, from only the source rows and columns they read (the same values; 40% less work
// for a 500×375 JPEG). The header is checked against the pixel limit before anything is decoded.
import { centerBox } from '../data/crop_boxes.js';
import { BadImageError, decodeImage, decodesNatively, type RegionPicker } from '../data/decode.js';
import { DataError } from '../errors.js';
import type { U8Image } from '../data/image.js';
import { hw, resizeTarget, type TransformSpec } from '../data/index.js';
import { inputFromPixels } from '../train/predict.js';
import type { ModelInfo } from '../train/weights.js';

/** Decoded pixel arrays kept for reuse by one preprocessor (one per image decoding at once is enough). */
const MAX_SPARE = 4;

export interface PreprocessSpec {
  info: ModelInfo;
  transforms: TransformSpec[];
  maxPixels: number;
}

/** Bytes → input; `out`, when it has the input's size, receives the values and is returned as `x`. */
export type Preprocess = (bytes: Uint8Array, name: string, out?: Float32Array) => Promise<{ x: Float32Array; shape: number[] }>;

/** The number of values of one preprocessed image: crops × channels × size × size. */
export function inputFloats(spec: PreprocessSpec): number {
  const crops = spec.transforms.some((t) => t.type === 'tenCrop') ? 10 : 1;
  return crops * spec.info.inChannels * spec.info.inputSize * spec.info.inputSize;
}

/** The preprocessing of `spec` as one function (throws BadImageError / DataError for unusable images). */
export function preprocessor(spec: PreprocessSpec): Preprocess {
  const channels = spec.info.inChannels === 1 ? 1 : 3;
  const [first, second, ...rest] = spec.transforms;
  const firstResize: RegionPicker | undefined =
    first?.type === 'resize'
      ? (width, height) => {
          const size = resizeTarget(first.size, width, height);
          // The crop that follows, when it lies inside the resized image (else it pads: left to it).
          const [th, tw] = second?.type === 'centerCrop' ? hw(second.size) : [0, 0];
          const fits = th > 0 && th <= size.height && tw <= size.width;
          return {
            box: { left: 0, top: 0, width, height },
            ...size,
            resampler: first.resampler,
            ...(fits ? { window: centerBox(size, th, tw) } : {}),
          };
        }
      : undefined;
  // After a window the CenterCrop still runs, on an image of its own size: it takes all of it.
  const after = firstResize ? [...(second ? [second] : []), ...rest] : spec.transforms;
  // Decoded pixel arrays, recycled once their values are in the input: the next plain JPEG whose
  // pixels have the same size is decoded into one (no new array per image, so the garbage
  // collector is not called by a stream of them).
  const spare: Uint8Array[] = [];
  return async (bytes, name, out) => {
    const into = spare.pop();
    let img: U8Image;
    try {
      img = await decodeImage(bytes, name, { channels, maxPixels: spec.maxPixels, ...(into ? { into } : {}) }, firstResize);
    } catch (err) {
      if (into) spare.push(into);
      throw err;
    }
    try {
      return inputFromPixels(img, name, spec.info, after, out);
    } finally {
      for (const a of new Set([into, img.data])) if (a && spare.length < MAX_SPARE) spare.push(a);
    }
  };
}

/** Whether `bytes` decode without work on the calling thread (a plain JPEG through the image addon). */
export function decodesOffThread(spec: PreprocessSpec, bytes: Uint8Array): boolean {
  return decodesNatively(bytes, { channels: spec.info.inChannels === 1 ? 1 : 3 });
}

/** Why preprocessing failed: `userError` for the image's own fault (a DataError: 415/422), else a bug. */
export function preprocessFailure(err: unknown): { kind: string; message: string; userError: boolean } {
  return {
    kind: err instanceof BadImageError ? err.kind : 'unusable',
    message: err instanceof Error ? err.message : String(err),
    userError: err instanceof DataError,
  };
}
