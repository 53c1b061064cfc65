// Per-layer precision in bf16 mode: for each convolution / inner product and each pass, whether
// computing in bf16 is faster than f32 on this kind of CPU (AVX512_BF16 without AMX: AMD Zen 4).
// Storage, master weights and optimiser state stay f32 either way; only the primitive's inputs
// (src, weights, diff_dst) are converted, once per write, and its outputs are f32.
//
// Measurement notes (bench/precision_probe.ts --arch alexnet --batch 64, 2 OpenMP threads,
// AMD EPYC Zen 4 with AVX512_BF16 and no AMX, oneDNN 2.6.3; the machine was shared with other
// jobs (load ~6 on 2 cores), so each figure is the median of 2-3 runs and two sessions agree
// only in direction; ms, f32 → bf16, bf16 conversions of weights after an SGD write included):
//   layer  forward                 backward data             backward weights
//   conv1  116 → 88 | 194 → 70     1097 → 291 | 721 → 521    211 → 52 | 142 → 106
//   conv2  298 → 185 | 481 → 223   347 → 200 | 485 → 272     299 → 149 | 558 → 279
//   conv3  115 → 166 | 212 → 88    138 → 115 | 252 → 120     188 → 114 | 206 → 119
//   conv4  393 → 75 | 335 → 153    305 → 159 | 544 → 201     243 → 243 | 486 → 166
//   conv5  179 → 114 | 166 → 220   141 → 183 | 159 → 106     318 → 305 | 247 → 114
//   fc6 (64x9216→4096, bench notes)  fwd ~100 → ~44, bwd data ~100 → ~36, bwd weights ~96 → ~32
// bf16 wins on every layer and pass in the sum of both sessions (conv3 forward and conv5
// forward/backward-data flipped between sessions: noise), so every AlexNet layer computes in
// bf16 here. DESIGN §4's AMX machine found conv1's bf16 weight gradient slower than f32; that is
// not so on Zen 4. The table keeps the per-layer switch for such machines: a layer listed with
// false keeps that pass in f32.
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

// Filled from measurements (see notes above); layers not listed use ALL_BF16.
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
