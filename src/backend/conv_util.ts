// Output-size and padding arithmetic for convolution and pooling, in one place for every
// backend and for shape inference (summary, model input checks). Mirrors PyTorch's formulas.
import type { AdaptivePoolGeometry, ConvGeometry, PoolGeometry, Shape } from './backend.js';
import { ShapeError } from '../errors.js';

export type Pair = readonly [number, number];

export function pair(v: number | Pair): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Convolution output size: floor((in + 2·pad − k) / stride) + 1. */
export function convOutSize(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

/** Pooling output size with PyTorch's ceil-mode rule (the last window must start inside input or left padding). */
export function poolOutSize(size: number, k: number, stride: number, pad: number, ceilMode: boolean): number {
  const span = size + 2 * pad - k;
  let out = Math.floor((span + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out -= 1;
  return out;
}

/** The four dims of a 4-D shape, or a ShapeError saying what was `expected`. */
function fourDims(s: Shape, expected: string): [number, number, number, number] {
  const [a, b, c, d] = s;
  if (s.length !== 4 || a === undefined || b === undefined || c === undefined || d === undefined) {
    throw new ShapeError(`${expected}, got [${s.join(', ')}]`);
  }
  return [a, b, c, d];
}

/** x [n, c, h, w], weight [oc, c/groups, kh, kw]. Throws with the shapes at fault. */
export function convGeometry(x: Shape, weight: Shape, stride: Pair, padding: Pair, groups: number): ConvGeometry {
  const [n, c, h, w] = fourDims(x, 'conv2d: expected a 4-D input [N, C, H, W]');
  const [oc, icg, kh, kw] = fourDims(weight, 'conv2d: expected a 4-D weight [OC, C/groups, KH, KW]');
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || oc % groups !== 0) {
    throw new ShapeError(`conv2d: groups=${groups} must divide input channels ${c} and output channels ${oc}`);
  }
  if (icg !== c / groups) {
    throw new ShapeError(
      `conv2d: weight [${weight.join(', ')}] expects ${icg * groups} input channels (groups=${groups}), input [${x.join(', ')}] has ${c}`,
    );
  }
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  if (sh < 1 || sw < 1 || ph < 0 || pw < 0) throw new ShapeError(`conv2d: bad stride ${stride} or padding ${padding}`);
  const oh = convOutSize(h, kh, sh, ph);
  const ow = convOutSize(w, kw, sw, pw);
  if (oh < 1 || ow < 1) {
    throw new ShapeError(`conv2d: input ${h}x${w} (padding ${ph},${pw}) is smaller than kernel ${kh}x${kw}`);
  }
  return { n, c, h, w, oc, kh, kw, oh, ow, strideH: sh, strideW: sw, padH: ph, padW: pw, groups };
}

export function poolGeometry(x: Shape, kernel: Pair, stride: Pair, padding: Pair, ceilMode: boolean): PoolGeometry {
  const [n, c, h, w] = fourDims(x, 'max_pool2d: expected a 4-D input [N, C, H, W]');
  const [kh, kw] = kernel;
  const [sh, sw] = stride;
  const [ph, pw] = padding;
  if (ph * 2 > kh || pw * 2 > kw) throw new ShapeError(`max_pool2d: padding ${ph},${pw} must be at most half of kernel ${kh}x${kw}`);
  const oh = poolOutSize(h, kh, sh, ph, ceilMode);
  const ow = poolOutSize(w, kw, sw, pw, ceilMode);
  if (oh < 1 || ow < 1) throw new ShapeError(`max_pool2d: input ${h}x${w} is smaller than kernel ${kh}x${kw}`);
  const padBottom = Math.max(0, (oh - 1) * sh + kh - h - ph);
  const padRight = Math.max(0, (ow - 1) * sw + kw - w - pw);
  return { n, c, h, w, kh, kw, oh, ow, strideH: sh, strideW: sw, padH: ph, padW: pw, padBottom, padRight };
}

export function adaptivePoolGeometry(x: Shape, out: Pair): AdaptivePoolGeometry {
  const [n, c, h, w] = fourDims(x, 'adaptive_avg_pool2d: expected a 4-D input [N, C, H, W]');
  return { n, c, h, w, oh: out[0], ow: out[1] };
}

/** PyTorch's adaptive window for output index i: [floor(i·in/out), ceil((i+1)·in/out)). */
export function adaptiveWindow(i: number, inSize: number, outSize: number): [number, number] {
  return [Math.floor((i * inSize) / outSize), Math.ceil(((i + 1) * inSize) / outSize)];
}
