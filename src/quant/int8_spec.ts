// What an int8 network is, for both engines that run it (the oneDNN addon's native/int8.cpp and
// the TypeScript reference in int8_reference.ts): the input's shape and scale, then a chain of
// layers on integer activations. A weight layer holds s8 weights, one requantization scale per
// output channel (input scale · weight scale / output scale, or without the output scale when its
// output stays f32), a bias already divided by input scale · weight scale (oneDNN adds the bias
// to the int32 accumulator before scaling) and a fused ReLU. Activations are NHWC between layers;
// a linear layer after a convolution reads them flattened in that order. Two steps are not pure
// integer arithmetic: LRN (alexnet-2012) is an f32 island, reading the f32 output of the
// convolution before it and quantizing its own output; the adaptive average pool averages integers
// and rounds the mean (half to even) to the same scale, at most half a step from the exact mean.

/** How a layer stores its output: u8 (after a ReLU), s8, or f32 (the logits). */
export type Int8Output = 'u8' | 's8' | 'f32';

export interface Int8ConvSpec {
  kind: 'conv';
  oc: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  groups: number;
  /** [oc, c/groups, kh, kw], s8. */
  weight: Int8Array;
  /** Requantization scale per output channel. */
  scales: Float32Array;
  /** Bias per output channel, in accumulator units (divided by input scale · weight scale). */
  bias: Float32Array;
  relu: boolean;
  out: Int8Output;
}

export interface Int8LinearSpec {
  kind: 'linear';
  oc: number;
  /** [oc, k], s8, columns in NHWC order of the activation it reads. */
  weight: Int8Array;
  scales: Float32Array;
  bias: Float32Array;
  relu: boolean;
  out: Int8Output;
}

/** Max pooling without padding, floor mode: exact on integers, the scale unchanged. */
export interface Int8MaxPoolSpec {
  kind: 'maxpool';
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
}

/**
 * Local response normalisation across channels in f32 (PyTorch's: x / (k + alpha/size · Σ x²)^beta
 * over `size` channels): it reads the f32 output of the convolution before it (the real values)
 * and stores round(y / outputScale), saturated, as `out`.
 */
export interface Int8LrnSpec {
  kind: 'lrn';
  size: number;
  alpha: number;
  beta: number;
  k: number;
  outputScale: number;
  out: 'u8' | 's8';
}

/** Adaptive average pooling to [oh, ow] (PyTorch's windows) on integers: the mean rounded half to even, the scale unchanged. */
export interface Int8AvgPoolSpec {
  kind: 'avgpool';
  oh: number;
  ow: number;
}

export type Int8LayerSpec = Int8ConvSpec | Int8LinearSpec | Int8MaxPoolSpec | Int8LrnSpec | Int8AvgPoolSpec;

export interface Int8NetSpec {
  c: number;
  h: number;
  w: number;
  /** The input is quantized to s8 as round(x / inputScale), saturated. */
  inputScale: number;
  layers: Int8LayerSpec[];
}

/** Shape [c, h, w] of each layer's output, in order (the last is the network's output per image). */
export function layerShapes(spec: Int8NetSpec): [number, number, number][] {
  let [c, h, w] = [spec.c, spec.h, spec.w];
  return spec.layers.map((l) => {
    if (l.kind === 'maxpool') [h, w] = [Math.floor((h - l.kh) / l.strideH) + 1, Math.floor((w - l.kw) / l.strideW) + 1];
    else if (l.kind === 'avgpool') [h, w] = [l.oh, l.ow];
    else if (l.kind === 'conv')
      [c, h, w] = [l.oc, Math.floor((h + 2 * l.padH - l.kh) / l.strideH) + 1, Math.floor((w + 2 * l.padW - l.kw) / l.strideW) + 1];
    else if (l.kind === 'linear') [c, h, w] = [l.oc, 1, 1];
    return [c, h, w];
  });
}

/** Values per image of the network's output. */
export function outputSize(spec: Int8NetSpec): number {
  const last = layerShapes(spec).at(-1) ?? [spec.c, spec.h, spec.w];
  return last[0] * last[1] * last[2];
}
