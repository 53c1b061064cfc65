// Per-layer precision in bf16 mode: for each convolution / inner product and each pass, whether
// computing in bf16 is faster than f32 on this kind of CPU (oneDNN's ISA: AMX, or AVX512_BF16
// without AMX). Storage, master weights and optimiser state stay f32 either way; only the
// primitive's inputs (src, weights, diff_dst) are converted, once per write, and its outputs are f32.
//
// Measurement notes (bench/precision_probe.ts --arch A --batch 64, 2 OpenMP threads, oneDNN 2.6.3;
// ms, f32 → bf16, bf16 conversions of weights after an SGD write included):
//
// AMD EPYC Zen 4, AVX512_BF16 without AMX (alexnet; the machine was shared, load ~6 on 2 cores,
// so each figure is the median of 2-3 runs and two sessions agree only in direction):
//   layer  forward                 backward data             backward weights
//   conv1  116 → 88 | 194 → 70     1097 → 291 | 721 → 521    211 → 52 | 142 → 106
//   conv2  298 → 185 | 481 → 223   347 → 200 | 485 → 272     299 → 149 | 558 → 279
//   conv3  115 → 166 | 212 → 88    138 → 115 | 252 → 120     188 → 114 | 206 → 119
//   conv4  393 → 75 | 335 → 153    305 → 159 | 544 → 201     243 → 243 | 486 → 166
//   conv5  179 → 114 | 166 → 220   141 → 183 | 159 → 106     318 → 305 | 247 → 114
//   fc6 (64x9216→4096, bench notes)  fwd ~100 → ~44, bwd data ~100 → ~36, bwd weights ~96 → ~32
// bf16 wins on every layer and pass in the sum of both sessions (conv3 forward and conv5
// forward/backward-data flipped between sessions: noise), so every layer computes in bf16 there.
//
// Intel Xeon with AMX (idle machine, one run of 3 repetitions; alexnet | alexnet-v1):
//   layer  forward                 backward data             backward weights
//   conv1  24.0 → 7.1 | 38.2 → 10.5    (never needed)        25.3 → 30.0 | 41.6 → 42.4
//   conv2  64.5 → 9.9 | 143 → 18.9     68.3 → 11.4 | 149 → 25.7    65.1 → 22.2 | 145 → 45.1
//   conv3  32.7 → 5.7 | 45.6 → 7.3     31.2 → 5.7 | 44.5 → 8.5     37.8 → 11.8 | 51.4 → 15.8
//   conv4  43.5 → 6.7 | 66.0 → 11.1    42.0 → 8.2 | 67.1 → 13.9    46.1 → 15.7 | 74.3 → 24.1
//   conv5  27.0 → 4.4 | 44.2 → 6.7     27.4 → 4.9 | 44.5 → 8.5     30.2 → 10.5 | 49.9 → 15.9
// AMX gains 3-7x everywhere except conv1's weight gradient (3 input channels, 11x11 stride 4),
// which is slower in bf16 alone (oneDNN's kernels standalone: 29.8 vs 28.4 ms and 45.1 vs 43.3 ms),
// as DESIGN §4's first probe found. In the whole training step it is not: with that one pass in
// f32 (its input and output gradient then need f32 layouts of their own) the bf16 step took
// 331-334 vs 332 ms (alexnet) and 472-478 vs 463 ms (alexnet-v1), so it stays bf16 there too.
import type { ConvGeometry, LinearGeometry } from '../backend.js';

export type Pass = 'forward' | 'backwardData' | 'backwardWeights';

interface Choice {
  forward: boolean;
  backwardData: boolean;
  backwardWeights: boolean;
}

/** Layer signature: input channels, output channels, kernel, stride, groups. */
function convSignature(g: ConvGeometry): string {
  return `conv c${g.c} oc${g.oc} k${g.kh} s${g.strideH} g${g.groups}`;
}

const ALL_BF16: Choice = { forward: true, backwardData: true, backwardWeights: true };

// Filled from measurements (see notes above): every layer is bf16 on both kinds of CPU measured;
// a layer listed with false keeps that pass in f32. Layers not listed use ALL_BF16.
const CONV_TABLE: Record<string, Choice> = {
  // torchvision alexnet (measured above)
  'conv c3 oc64 k11 s4 g1': ALL_BF16,
  'conv c64 oc192 k5 s1 g1': ALL_BF16,
  'conv c192 oc384 k3 s1 g1': ALL_BF16,
  'conv c384 oc256 k3 s1 g1': ALL_BF16,
  'conv c256 oc256 k3 s1 g1': ALL_BF16,
};

export interface PrecisionTable {
  conv(g: ConvGeometry, pass: Pass): boolean;
  linear(g: LinearGeometry, pass: Pass): boolean;
}

export function convUsesBf16(g: ConvGeometry, pass: Pass): boolean {
  return (CONV_TABLE[convSignature(g)] ?? ALL_BF16)[pass];
}

export function linearUsesBf16(_g: LinearGeometry, pass: Pass): boolean {
  return ALL_BF16[pass];
}

export const DEFAULT_PRECISION_TABLE: PrecisionTable = { conv: convUsesBf16, linear: linearUsesBf16 };
