// Fully connected layer on the tiled GEMM core (gemm.ts): x [m, k], w [n, k] (PyTorch's layout),
// b [n], y [m, n].
//   forward          y [m, n]  = x · wᵀ + b, ReLU fused (NaN kept)
//   backward data    gx [m, k] = gy [m, n] · w [n, k]
//   backward weights gw [n, k] = gyᵀ · x,  gb [n] = Σ_rows gy
import type { LinearGeometry } from '../../backend.js';
import type { KernelContext } from '../kernel_context.js';
import { RELU_WGSL, dispatchGemm, epilogue, type GemmSpec } from './gemm.js';
import { channelSums } from './gemm_reduce.js';
import { gemv, gemvApplies } from './linear_gemv.js';

const READ = 'var<storage, read>';
const WRITE = 'var<storage, read_write>';

function bindings(names: readonly string[]): string {
  return names.map((name, i) => `@group(0) @binding(${i}) ${i === 2 ? WRITE : READ} ${name}: array<f32>;`).join('\n');
}

function forwardSpec(bias: boolean, relu: boolean): GemmSpec {
  return {
    bindings: bindings(bias ? ['x', 'w', 'y', 'b'] : ['x', 'w', 'y']),
    bindingCount: bias ? 4 : 3,
    helpers: RELU_WGSL,
    loadA: '  return x[row * u.K + k];',
    loadB: '  return w[col * u.K + k];',
    store: `  y[row * u.N + col] = ${epilogue('v', bias ? 'b[col]' : null, relu)};`,
    aAlongK: true,
    bAlongK: true,
  };
}

/** y [m, n] = x · wᵀ (+ b), ReLU'd (NaN kept) when `relu`; a matrix–vector product for a few rows. */
export function linear(
  ctx: KernelContext,
  x: GPUBuffer,
  w: GPUBuffer,
  b: GPUBuffer | null,
  y: GPUBuffer,
  g: LinearGeometry,
  relu: boolean,
): void {
  const bias = b !== null;
  if (gemvApplies(g)) return gemv(ctx, x, w, b, y, g, relu);
  dispatchGemm(
    ctx,
    `linear.forward.${bias}.${relu}`,
    () => forwardSpec(bias, relu),
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
