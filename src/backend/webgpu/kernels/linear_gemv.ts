// The linear layer's forward pass for a few rows (batch 1 to 4): y [m, n] = x · wᵀ + b is then a
// matrix–vector product, bound by reading w once (FC6: 151 MB). A GEMM tile would waste 15/16 of
// its rows; instead each workgroup of 64 invocations owns four outputs, its invocations stride
// along k with vec4 loads (adjacent invocations read adjacent 16 bytes of each weight row), and a
// workgroup tree reduction adds the 64 partial sums. Needs k % 4 == 0 (AlexNet's FCs: 9216, 4096).
// With f16 weights (kernels/f16.ts) each vec4 load reads 8 bytes instead of 16: half the traffic.
import type { LinearGeometry } from '../../backend.js';
import type { KernelContext } from '../kernel_context.js';
import { WEIGHT_LOADS, type WeightFormat } from './f16.js';
import { RELU_WGSL, epilogue, foldGrid } from './gemm.js';

/** Most rows the matrix–vector path takes (more rows: the GEMM reuses each weight across rows). */
export const GEMV_MAX_ROWS = 4;

const THREADS = 64;

export function gemvApplies(g: LinearGeometry): boolean {
  return g.m >= 1 && g.m <= GEMV_MAX_ROWS && g.k % 4 === 0;
}

/** The kernel for `rows` rows, reading the weights in `format` (four at a time through wload4). */
export function gemvSource(rows: number, bias: boolean, relu: boolean, format: WeightFormat): string {
  const rowsOf = (f: (r: number) => string): string => Array.from({ length: rows }, (_, r) => f(r)).join('\n');
  const weights = WEIGHT_LOADS[format];
  return `${weights.directives}
struct Params { m: i32, k4: i32, n: i32, pad: i32 }
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
${weights.binding(1, 'w', 'vec4')}
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${bias ? '@group(0) @binding(3) var<storage, read> b: array<f32>;' : ''}
@group(0) @binding(${bias ? 4 : 3}) var<uniform> u: Params;
${RELU_WGSL}
${weights.functions('w', 'vec4')}

// red[r · ${THREADS} + t] holds invocation t's sums for row r, one lane per output.
var<workgroup> red: array<vec4<f32>, ${rows * THREADS}>;

@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let j0 = 4 * i32(wid.x + wid.y * groups.x);
  if (j0 >= u.n) { return; }
  let t = i32(li);
  // Outputs past n re-read the last row; their sums are never stored.
  let w0 = min(j0, u.n - 1) * u.k4;
  let w1 = min(j0 + 1, u.n - 1) * u.k4;
  let w2 = min(j0 + 2, u.n - 1) * u.k4;
  let w3 = min(j0 + 3, u.n - 1) * u.k4;
${rowsOf((r) => `  var s${r} = vec4<f32>();`)}
  for (var k = t; k < u.k4; k += ${THREADS}) {
    let b0 = wload4(w0 + k);
    let b1 = wload4(w1 + k);
    let b2 = wload4(w2 + k);
    let b3 = wload4(w3 + k);
${rowsOf((r) => `    { let a = x[${r} * u.k4 + k]; s${r} += vec4<f32>(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3)); }`)}
  }
${rowsOf((r) => `  red[${r * THREADS} + t] = s${r};`)}
  workgroupBarrier();
  for (var stride = ${THREADS / 2}; stride > 0; stride >>= 1u) {
    if (t < stride) {
${rowsOf((r) => `      red[${r * THREADS} + t] += red[${r * THREADS} + t + stride];`)}
    }
    workgroupBarrier();
  }
  if (t < ${4 * rows}) {
    let r = t / 4;
    let j = j0 + t % 4;
    if (j < u.n) {
      let v = red[r * ${THREADS}][t % 4];
      y[r * u.n + j] = ${epilogue('v', bias ? 'b[j]' : null, relu)};
    }
  }
}
`;
}

/** y [m, n] = x · wᵀ (+ b), ReLU'd when `relu`, for m ≤ GEMV_MAX_ROWS and k % 4 == 0; w in `format`. */
export function gemv(
  ctx: KernelContext,
  x: GPUBuffer,
  w: GPUBuffer,
  b: GPUBuffer | null,
  y: GPUBuffer,
  g: LinearGeometry,
  relu: boolean,
  format: WeightFormat,
): void {
  const bias = b !== null;
  const pipeline = ctx.pipeline(`linear.gemv.${g.m}.${bias}.${relu}.${format}`, gemvSource(g.m, bias, relu, format));
  const [gx, gy] = foldGrid(Math.ceil(g.n / 4));
  const params = new Int32Array([g.m, g.k / 4, g.n, 0]).buffer;
  ctx.dispatch(pipeline, bias ? [x, w, y, b] : [x, w, y], params, [gx, gy]);
}
