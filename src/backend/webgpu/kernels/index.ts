// The GPU worker's kernels by name: what a client's 'run' command names, with its buffers (in
// the order listed beside each) and its numeric parameters. Convolution and the classifier's
// matrix products are the tiled GEMM kernels of conv.ts and linear.ts.
import type { ConvGeometry, LinearGeometry } from '../../backend.js';
import type { KernelContext } from '../kernel_context.js';
import { conv2d, conv2dBackwardData, conv2dBackwardWeights } from './conv.js';
import { dropout } from './dropout.js';
import { packF16 } from './f16.js';
import { addBias, axpy, binary, fill, reluBackward, scalar, unary } from './elementwise.js';
import { linear, linearBackwardData, linearBackwardWeights } from './linear.js';
import { logSoftmax, logSoftmaxBackward, softmaxXent, softmaxXentBackward } from './loss.js';
import { lrn, lrnBackward } from './lrn.js';
import { adaptiveAvgPool, adaptiveAvgPoolBackward, maxPool, maxPoolBackward } from './pool.js';
import { sumAll, sumAxis } from './reduce.js';
import { sgdStep } from './sgd.js';

export type Params = Record<string, number>;
type KernelFn = (ctx: KernelContext, buffers: (GPUBuffer | null)[], p: Params) => void;

/** A kernel whose buffers are all present, taking its own parameter record. */
const k =
  <P>(fn: (ctx: KernelContext, buffers: GPUBuffer[], p: P) => void): KernelFn =>
  (ctx, buffers, p) =>
    fn(ctx, buffers as GPUBuffer[], p as unknown as P);

const conv = (p: Params) => p as unknown as ConvGeometry;
const lin = (p: Params) => p as unknown as LinearGeometry;

export const KERNELS = {
  fill: k(fill), // y
  unary: k(unary), // x, y
  binary: k(binary), // a, b, y
  scalar: k(scalar), // x, y
  axpy: k(axpy), // dst, src
  addBias: k(addBias), // x, b, y
  reluBackward: k(reluBackward), // gy, y, gx
  sumAll: k(sumAll), // x, y
  sumAxis: k(sumAxis), // x, y
  maxPool: k(maxPool), // x, y, argmax
  maxPoolBackward: k(maxPoolBackward), // gy, argmax, gx
  adaptiveAvgPool: k(adaptiveAvgPool), // x, y
  adaptiveAvgPoolBackward: k(adaptiveAvgPoolBackward), // gy, gx
  lrn: k(lrn), // x, y, scale
  lrnBackward: k(lrnBackward), // gy, x, y, scale, gx
  dropout: k(dropout), // x, y, mask
  logSoftmax: k(logSoftmax), // x, y
  logSoftmaxBackward: k(logSoftmaxBackward), // gy, y, gx
  softmaxXent: k(softmaxXent), // logits, labels, probs, rowLoss
  softmaxXentBackward: k(softmaxXentBackward), // probs, labels, gx
  sgdStep: k(sgdStep), // param, grad, buf (a placeholder without momentum)
  packF16: k(packF16), // x, y (the f16 copy of x)
  // x, w (f32, or its f16 copy when p.f16 is 1), b | null, y
  conv2d: ((ctx, [x, w, b, y], p) => conv2d(ctx, x!, w!, b ?? null, y!, conv(p), p.relu === 1, ctx.weightFormat(p.f16 === 1))) as KernelFn,
  // gy, w, gx
  conv2dBackwardData: ((ctx, [gy, w, gx], p) => conv2dBackwardData(ctx, gy!, w!, gx!, conv(p))) as KernelFn,
  // gy, x, gw, gb | null
  conv2dBackwardWeights: ((ctx, [gy, x, gw, gb], p) => conv2dBackwardWeights(ctx, gy!, x!, gw!, gb ?? null, conv(p))) as KernelFn,
  // x, w (f32, or its f16 copy when p.f16 is 1), b | null, y
  linear: ((ctx, [x, w, b, y], p) => linear(ctx, x!, w!, b ?? null, y!, lin(p), p.relu === 1, ctx.weightFormat(p.f16 === 1))) as KernelFn,
  // gy, w, gx
  linearBackwardData: ((ctx, [gy, w, gx], p) => linearBackwardData(ctx, gy!, w!, gx!, lin(p))) as KernelFn,
  // gy, x, gw, gb | null
  linearBackwardWeights: ((ctx, [gy, x, gw, gb], p) => linearBackwardWeights(ctx, gy!, x!, gw!, gb ?? null, lin(p))) as KernelFn,
} satisfies Record<string, KernelFn>;

export type KernelName = keyof typeof KERNELS;
