// Image bytes → the model's input, by the same decoder and preprocessing as `alexnet predict`
// (decodeImage, then inputFromPixels) to the same values. A leading Resize is done by the decoder,
// as the DataLoader does it: a JPEG is decoded and resized in one native call (libjpeg-turbo and
// PIL's bilinear, the same pixels as decoding and then resizing in TypeScript, several times
// faster). The header is checked against the pixel limit before anything is decoded.
import { decodeImage, type RegionPicker } from '../data/decode.js';
import { resizeTarget, type TransformSpec } from '../data/index.js';
import { inputFromPixels } from '../train/predict.js';
import type { ModelInfo } from '../train/weights.js';

export interface PreprocessSpec {
  info: ModelInfo;
  transforms: TransformSpec[];
  maxPixels: number;
}

export type Preprocess = (bytes: Uint8Array, name: string) => Promise<{ x: Float32Array; shape: number[] }>;

/** The preprocessing of `spec` as one function (throws BadImageError / DataError for unusable images). */
export function preprocessor(spec: PreprocessSpec): Preprocess {
  const channels = spec.info.inChannels === 1 ? 1 : 3;
  const [first, ...rest] = spec.transforms;
  const firstResize: RegionPicker | undefined =
    first?.type === 'resize'
      ? (width, height) => ({
          box: { left: 0, top: 0, width, height },
          ...resizeTarget(first.size, width, height),
          resampler: first.resampler,
        })
      : undefined;
  const after = firstResize ? rest : spec.transforms;
  return async (bytes, name) => {
    const img = await decodeImage(bytes, name, { channels, maxPixels: spec.maxPixels }, firstResize);
    return inputFromPixels(img, name, spec.info, after);
  };
}
