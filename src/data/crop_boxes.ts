// Where crops go: CenterCrop's and RandomCrop's boxes, and RandomResizedCrop's torchvision
// sampling. Shared by the step-by-step transforms, the fused tail and the decoder's native crop.
import type { Generator } from '../random.js';
import { roundHalfEven, type Box, type Pixels } from './image.js';
import { hw, type TransformSpec } from './transform_spec.js';
import { ShapeError } from '../errors.js';

/** The box a CenterCrop or RandomCrop takes (drawing from rng for RandomCrop). */
export function cropBox(spec: Extract<TransformSpec, { type: 'centerCrop' | 'randomCrop' }>, img: Pixels, rng: Generator): Box {
  const [th, tw] = hw(spec.size);
  if (spec.type === 'centerCrop') return centerBox(img, th, tw);
  const pad = spec.padding ?? 0;
  const H = img.height + 2 * pad;
  const W = img.width + 2 * pad;
  if (H < th || W < tw) throw new ShapeError(`randomCrop: crop ${th}x${tw} larger than the ${img.height}x${img.width} image`);
  const top = rng.int(H - th + 1) - pad;
  const left = rng.int(W - tw + 1) - pad;
  return { top, left, height: th, width: tw };
}

/** torchvision's CenterCrop: offsets round((H − h)/2) with Python's rounding; zero padding if larger. */
export function centerBox(img: Pick<Pixels, 'height' | 'width'>, th: number, tw: number): Box {
  const top = th > img.height ? -Math.floor((th - img.height) / 2) : roundHalfEven((img.height - th) / 2);
  const left = tw > img.width ? -Math.floor((tw - img.width) / 2) : roundHalfEven((img.width - tw) / 2);
  return { top, left, height: th, width: tw };
}

/** torchvision's RandomResizedCrop.get_params: 10 tries at a random area and log-uniform ratio, then a central fallback. */
export function randomResizedCropBox(
  width: number,
  height: number,
  scale: [number, number],
  ratio: [number, number],
  rng: Generator,
): { top: number; left: number; height: number; width: number } {
  const area = width * height;
  const logLo = Math.log(ratio[0]);
  const logHi = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const aspect = Math.exp(logLo + (logHi - logLo) * rng.uniform());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  else if (inRatio > Math.max(ratio[0], ratio[1])) w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}
