// 2-D convolution (groups, stride, padding) forward and backward as implicit GEMMs on the tiled
// core (gemm.ts); the column matrix is never materialised, the loaders gather from NCHW directly.
// For group z, with Kc = (c/groups)·kh·kw and P = oh·ow:
//   forward          y_z [oc/groups, n·P]  = w_z [oc/groups, Kc] · col [Kc, n·P]     (+ bias, ReLU)
//   backward data    gx_z [c/groups, n·h·w] = w_zᵀ [c/groups, (oc/groups)·kh·kw] · gather(gy)
//   backward weights gw_z [oc/groups, Kc]  = gy_z [oc/groups, n·P] · colᵀ, K split across workgroups
// Backward data gathers: input pixel (iy, ix) takes tap (ky, kx) from output (oy, ox) when
// iy + padH − ky = oy·strideH (likewise x) lands inside the output; other taps contribute zero.
import type { ConvGeometry } from '../../backend.js';
import type { KernelContext } from '../kernel_context.js';
import { WEIGHT_LOADS, type WeightFormat } from './f16.js';
import { RELU_WGSL, dispatchGemm, epilogue, gemmSource, splitK, tileShape, type GemmSpec, type Params } from './gemm.js';
import { channelSums, sumSplits } from './gemm_reduce.js';

const READ = 'var<storage, read>';
const WRITE = 'var<storage, read_write>';

/** The uniform fields every convolution kernel uses. */
function convParams(g: ConvGeometry): Params {
  const icg = g.c / g.groups;
  return {
    n: g.n,
    c: g.c,
    h: g.h,
    w: g.w,
    oc: g.oc,
    kh: g.kh,
    kw: g.kw,
    oh: g.oh,
    ow: g.ow,
    sh: g.strideH,
    sw: g.strideW,
    ph: g.padH,
    pw: g.padW,
    icg,
    ocg: g.oc / g.groups,
    khw: g.kh * g.kw,
    P: g.oh * g.ow,
    hw: g.h * g.w,
  };
}

/** WGSL: the im2col element (k, col) of group z read from x (zero in the padding). */
const IM2COL = `
fn im2col(z: i32, k: i32, col: i32) -> f32 {
  let img = col / u.P;
  let p = col % u.P;
  let ci = k / u.khw;
  let r = k % u.khw;
  let iy = (p / u.ow) * u.sh - u.ph + r / u.kw;
  let ix = (p % u.ow) * u.sw - u.pw + r % u.kw;
  if (iy < 0 || iy >= u.h || ix < 0 || ix >= u.w) { return 0.0; }
  return x[((img * u.c + z * u.icg + ci) * u.h + iy) * u.w + ix];
}`;

/**
 * WGSL: decodes the invocation's four im2col columns c…c+3 (image, output pixel) once: cy/cx the
 * top-left input row/column of each column's window (cy far negative past N, so every tap of it
 * reads as padding), cb the offset of that corner in x within group z.
 */
const COLUMN_SETUP = [0, 1, 2, 3]
  .map((j) => {
    const X = 'xyzw'[j]!;
    return `  {
    let cj = c + ${j};
    let p = cj % u.P;
    cy.${X} = select(-65536, (p / u.ow) * u.sh - u.ph, cj < u.N);
    cx.${X} = (p % u.ow) * u.sw - u.pw;
    cb.${X} = ((cj / u.P) * u.c + z * u.icg) * u.hw + cy.${X} * u.w + cx.${X};
  }`;
  })
  .join('\n');

/** WGSL: the quad of im2col row k for the decoded columns, through the tap table (no divisions). */
const COLUMN_QUAD = `
      let e = taps[k];
      let iy = cy + vec4<i32>(e.y);
      let ix = cx + vec4<i32>(e.z);
      let ok = (iy >= vec4<i32>(0)) & (iy < vec4<i32>(u.h)) & (ix >= vec4<i32>(0)) & (ix < vec4<i32>(u.w));
      let at = select(vec4<i32>(0), cb + vec4<i32>(e.x), ok);
      quad = select(vec4<f32>(), vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]), ok);`;

function forwardSpec(bias: boolean, relu: boolean, format: WeightFormat): GemmSpec {
  const out = epilogue('v', bias ? 'b[o]' : null, relu);
  const weights = WEIGHT_LOADS[format];
  return {
    directives: weights.directives,
    bindings: [
      `@group(0) @binding(0) ${READ} x: array<f32>;`,
      weights.binding(1, 'w', 'scalar'),
      `@group(0) @binding(2) ${WRITE} y: array<f32>;`,
      `@group(0) @binding(3) ${READ} taps: array<vec4<i32>>;`,
      bias ? `@group(0) @binding(4) ${READ} b: array<f32>;` : '',
    ].join('\n'),
    bindingCount: bias ? 5 : 4,
    helpers: `${RELU_WGSL}\n${IM2COL}\n${weights.functions('w', 'scalar')}`,
    loadA: '  return wload((z * u.ocg + row) * u.K + k);',
    loadB: '  return im2col(z, k, col);',
    bQuad: { setup: `  var cy = vec4<i32>();\n  var cx = vec4<i32>();\n  var cb = vec4<i32>();\n${COLUMN_SETUP}`, body: COLUMN_QUAD },
    store: `  let o = z * u.ocg + row;\n  y[((col / u.P) * u.oc + o) * u.P + col % u.P] = ${out};`,
    aAlongK: true,
    bAlongK: false,
  };
}

/** The WGSL of the forward convolution reading its weights in `format` (for tests of the variants' sources). */
export function conv2dSource(g: ConvGeometry, bias: boolean, relu: boolean, format: WeightFormat): string {
  return gemmSource(
    forwardSpec(bias, relu, format),
    tileShape(g.oc / g.groups, g.n * g.oh * g.ow, (g.c / g.groups) * g.kh * g.kw, g.groups),
  );
}

/** Tap tables by context and geometry: entry k = (ci·h·w + ky·w + kx, ky, kx, 0) for k = (ci, ky, kx). */
const tapTables = new WeakMap<KernelContext, Map<string, GPUBuffer>>();

function tapTable(ctx: KernelContext, g: ConvGeometry): GPUBuffer {
  const icg = g.c / g.groups;
  const key = `${icg},${g.kh},${g.kw},${g.h},${g.w}`;
  let tables = tapTables.get(ctx);
  if (!tables) tapTables.set(ctx, (tables = new Map()));
  let table = tables.get(key);
  if (!table) {
    const entries = new Int32Array(icg * g.kh * g.kw * 4);
    let e = 0;
    for (let ci = 0; ci < icg; ci++)
      for (let ky = 0; ky < g.kh; ky++)
        for (let kx = 0; kx < g.kw; kx++, e += 4) entries.set([ci * g.h * g.w + ky * g.w + kx, ky, kx, 0], e);
    table = ctx.buffer(entries.byteLength, `conv taps ${key}`);
    ctx.device.queue.writeBuffer(table, 0, entries);
    tables.set(key, table);
  }
  return table;
}

/**
 * y [n, oc, oh, ow] = conv(x, w) (+ b), ReLU'd (NaN kept) when `relu`; `w` holds f32 weights, or
 * their f16 copy (packF16) for the formats 'f16' and 'f16-packed'.
 */
export function conv2d(
  ctx: KernelContext,
  x: GPUBuffer,
  w: GPUBuffer,
  b: GPUBuffer | null,
  y: GPUBuffer,
  g: ConvGeometry,
  relu: boolean,
  format: WeightFormat = 'f32',
): void {
  const p = convParams(g);
  const bias = b !== null;
  const taps = tapTable(ctx, g);
  dispatchGemm(
    ctx,
    `conv.forward.${bias}.${relu}.${format}`,
    () => forwardSpec(bias, relu, format),
    bias ? [x, w, y, taps, b] : [x, w, y, taps],
    { ...p, M: p.ocg!, N: g.n * p.P!, K: p.icg! * p.khw! },
    g.groups,
  );
}

const BACKWARD_DATA: GemmSpec = {
  bindings: [
    `@group(0) @binding(0) ${READ} gy: array<f32>;`,
    `@group(0) @binding(1) ${READ} w: array<f32>;`,
    `@group(0) @binding(2) ${WRITE} gx: array<f32>;`,
  ].join('\n'),
  bindingCount: 3,
  // A [c/groups, (oc/groups)·kh·kw]: w transposed within each output channel's block.
  loadA: '  return w[((z * u.ocg + k / u.khw) * u.icg + row) * u.khw + k % u.khw];',
  loadB: `
  let o = k / u.khw;
  let r = k % u.khw;
  let q = col % u.hw;
  let ty = q / u.w + u.ph - r / u.kw;
  let tx = q % u.w + u.pw - r % u.kw;
  if (ty < 0 || tx < 0) { return 0.0; }
  let oy = ty / u.sh;
  let ox = tx / u.sw;
  if (oy * u.sh != ty || ox * u.sw != tx || oy >= u.oh || ox >= u.ow) { return 0.0; }
  return gy[(((col / u.hw) * u.oc + z * u.ocg + o) * u.oh + oy) * u.ow + ox];`,
  store: '  gx[((col / u.hw) * u.c + z * u.icg + row) * u.hw + col % u.hw] = v;',
  aAlongK: true,
  bAlongK: false,
};

/** gx [n, c, h, w] from gy [n, oc, oh, ow] and w. */
export function conv2dBackwardData(ctx: KernelContext, gy: GPUBuffer, w: GPUBuffer, gx: GPUBuffer, g: ConvGeometry): void {
  const p = convParams(g);
  dispatchGemm(
    ctx,
    'conv.backwardData',
    () => BACKWARD_DATA,
    [gy, w, gx],
    { ...p, M: p.icg!, N: g.n * p.hw!, K: p.ocg! * p.khw! },
    g.groups,
  );
}

const BACKWARD_WEIGHTS: GemmSpec = {
  bindings: [
    `@group(0) @binding(0) ${READ} gy: array<f32>;`,
    `@group(0) @binding(1) ${READ} x: array<f32>;`,
    `@group(0) @binding(2) ${WRITE} out: array<f32>;`,
  ].join('\n'),
  bindingCount: 3,
  helpers: IM2COL,
  loadA: '  return gy[((k / u.P) * u.oc + z * u.ocg + row) * u.P + k % u.P];',
  loadB: '  return im2col(z, col, k);',
  // Split s writes slice s of the partial sums (slice 0 is gw itself when K is not split).
  store: '  out[(split * u.oc + z * u.ocg + row) * u.N + col] = v;',
  aAlongK: true,
  bAlongK: true,
};

/** Workgroups a weight-gradient GEMM aims for (split-K adds them), and the least K per split. */
const TARGET_WORKGROUPS = 256;
const MIN_K_PER_SPLIT = 256;

/** gw [oc, c/groups, kh, kw] = Σ over images of gy · colᵀ; gb [oc] = Σ gy over n, oh, ow. */
export function conv2dBackwardWeights(
  ctx: KernelContext,
  gy: GPUBuffer,
  x: GPUBuffer,
  gw: GPUBuffer,
  gb: GPUBuffer | null,
  g: ConvGeometry,
): void {
  const p = convParams(g);
  const params = { ...p, M: p.ocg!, N: p.icg! * p.khw!, K: g.n * p.P! };
  const tiles = Math.ceil(params.M / 64) * Math.ceil(params.N / 64) * g.groups;
  const wanted = Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(params.K / MIN_K_PER_SPLIT));
  const { splits } = splitK(params.K, wanted);
  const count = g.oc * params.N;
  const out = splits === 1 ? gw : ctx.scratch(splits * count * 4);
  dispatchGemm(ctx, 'conv.backwardWeights', () => BACKWARD_WEIGHTS, [gy, x, out], params, g.groups, splits);
  if (splits > 1) sumSplits(ctx, out, gw, count, splits);
  if (gb !== null) channelSums(ctx, gy, gb, g.n, g.oc, p.P!);
}
