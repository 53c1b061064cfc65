// Fully connected layer on the tiled GEMM core (gemm.ts): x [m, k], w [n, k] (PyTorch's layout),
// b [n], y [m, n].
//   forward          y [m, n]  = x · wᵀ + b, ReLU fused (NaN kept)
//   backward data    gx [m, k] = gy [m, n] · w [n, k]
//   backward weights gw [n, k] = gyᵀ · x,  gb [n] = Σ_rows gy
import type { LinearGeometry } from '../../backend.js';
import type { KernelContext } from '../kernel_context.js';
import { WEIGHT_LOADS, type WeightFormat } from './f16.js';
import { RELU_WGSL, dispatchGemm, epilogue, gemmSource, tileShape, type GemmSpec } from './gemm.js';
import { channelSums } from './gemm_reduce.js';
import { gemv, gemvApplies, gemvSource } from './linear_gemv.js';

const READ = 'var<storage, read>';
const WRITE = 'var<storage, read_write>';

function bindings(names: readonly string[]): string {
  return names.map((name, i) => `@group(0) @binding(${i}) ${i === 2 ? WRITE : READ} ${name}: array<f32>;`).join('\n');
}

function forwardSpec(bias: boolean, relu: boolean, format: WeightFormat): GemmSpec {
  const weights = WEIGHT_LOADS[format];
  return {
    directives: weights.directives,
    bindings: [
      `@group(0) @binding(0) ${READ} x: array<f32>;`,
      weights.binding(1, 'w', 'scalar'),
      `@group(0) @binding(2) ${WRITE} y: array<f32>;`,
      bias ? `@group(0) @binding(3) ${READ} b: array<f32>;` : '',
    ].join('\n'),
    bindingCount: bias ? 4 : 3,
    helpers: `${RELU_WGSL}\n${weights.functions('w', 'scalar')}`,
    loadA: '  return x[row * u.K + k];',
    loadB: '  return wload(col * u.K + k);',
    store: `  y[row * u.N + col] = ${epilogue('v', bias ? 'b[col]' : null, relu)};`,
    aAlongK: true,
    bAlongK: true,
  };
}

/**
 * The WGSL of the forward linear layer reading its weights in `format`: the matrix–vector kernel
 * where it applies, else the tiled GEMM (for tests of the variants' sources).
 */
export function linearSource(g: LinearGeometry, bias: boolean, relu: boolean, format: WeightFormat): string {
  if (gemvApplies(g)) return gemvSource(g.m, bias, relu, format);
  return gemmSource(forwardSpec(bias, relu, format), tileShape(g.m, g.n, g.k, 1));
}

/**
 * y [m, n] = x · wᵀ (+ b), ReLU'd (NaN kept) when `relu`; a matrix–vector product for a few rows.
 * `w` holds f32 weights, or their f16 copy (packF16) for the formats 'f16' and 'f16-packed'.
 */
export function linear(
  ctx: KernelContext,
  x: GPUBuffer,
  w: GPUBuffer,
  b: GPUBuffer | null,
  y: GPUBuffer,
  g: LinearGeometry,
  relu: boolean,
  format: WeightFormat = 'f32',
): void {
  const bias = b !== null;
  if (gemvApplies(g)) return gemv(ctx, x, w, b, y, g, relu, format);
  dispatchGemm(
    ctx,
    `linear.forward.${bias}.${relu}.${format}`,
    () => forwardSpec(bias, relu, format),
    bias ? [x, w, y, b] : [x, w, y],
    { M: g.m, N: g.n, K: g.k },
    1,
  );
}

const BACKWARD_DATA: GemmSpec = {
  bindings: bindings(['gy', 'w', 'gx']),
  bindingCount: 3,
  loadA: '  return gy[row * u.K + k];',
  loadB: '  return w[k * u.N + col];',
  store: '  gx[row * u.N + col] = v;',
  aAlongK: true,
  bAlongK: false,
};

/** gx [m, k] = gy [m, n] · w [n, k]. */
export function linearBackwardData(ctx: KernelContext, gy: GPUBuffer, w: GPUBuffer, gx: GPUBuffer, g: LinearGeometry): void {
  dispatchGemm(ctx, 'linear.backwardData', () => BACKWARD_DATA, [gy, w, gx], { M: g.m, N: g.k, K: g.n }, 1);
}

const BACKWARD_WEIGHTS: GemmSpec = {
  bindings: bindings(['gy', 'x', 'gw']),
  bindingCount: 3,
  loadA: '  return gy[k * u.M + row];',
  loadB: '  return x[k * u.N + col];',
  store: '  gw[row * u.N + col] = v;',
  aAlongK: false,
  bAlongK: false,
};

/** gw [n, k] = gyᵀ · x; gb [n] = Σ_rows gy. */
export function linearBackwardWeights(
  ctx: KernelContext,
  gy: GPUBuffer,
  x: GPUBuffer,
  gw: GPUBuffer,
  gb: GPUBuffer | null,
  g: LinearGeometry,
): void {
  dispatchGemm(ctx, 'linear.backwardWeights', () => BACKWARD_WEIGHTS, [gy, x, gw], { M: g.n, N: g.k, K: g.m }, 1);
  if (gb !== null) channelSums(ctx, gy, gb, g.m, g.n, 1);
}
