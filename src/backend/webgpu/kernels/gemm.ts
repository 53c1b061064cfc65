// The tiled GEMM every convolution and linear kernel is built from: C[M, N] = A[M, K] · B[K, N],
// where A, B and C are not buffers but WGSL functions the caller supplies (`loadA`, `loadB`,
// `store`), so an implicit GEMM (im2col never materialised) and a plain one share one core.
//
// Each workgroup (16×16 invocations) computes a 64×64 tile of C, each invocation a 4×4 register
// block; A and B pass through workgroup memory 16 deep along K (two 64×16 tiles, 8 KiB). The grid
// is (tiles, folded into x and y below 65535 per dimension) × z, and z = batch · splits: `batch`
// indexes independent GEMMs (a convolution's groups), `splits` slices K so that long reductions
// (the weight gradient, K = n·oh·ow) still fill the device; each split stores its partial sum
// through `store(z, split, row, col, v)` and the caller reduces them (gemm_reduce.ts).
//
// Loader contract: `loadA(z, row, k)` and `loadB(z, k, col)` are called only with row < M,
// col < N and k inside the split's range (the core supplies the zeros outside), and must return
// the element, zero where the implicit matrix is zero (padding).
import { MAX_GROUPS_PER_DIM, type KernelContext } from '../kernel_context.js';

/** Every split of K is a multiple of this (the deepest tile step). */
const K_ALIGN = 32;

/** The uniform block every GEMM-based kernel receives (all i32; unused fields are 0). */
const PARAM_NAMES = [
  'M',
  'N',
  'K',
  'kChunk',
  'splits',
  'n',
  'c',
  'h',
  'w',
  'oc',
  'kh',
  'kw',
  'oh',
  'ow',
  'sh',
  'sw',
  'ph',
  'pw',
  'icg',
  'ocg',
  'khw',
  'P',
  'hw',
] as const;
export type ParamName = (typeof PARAM_NAMES)[number];
export type Params = Partial<Record<ParamName, number>>;

export const PARAMS_WGSL = `struct Params {\n${PARAM_NAMES.map((n) => `  ${n}: i32,`).join('\n')}\n}`;

/** The uniform block's bytes, in PARAM_NAMES order. */
export function packParams(p: Params): ArrayBuffer {
  const a = new Int32Array(Math.ceil(PARAM_NAMES.length / 4) * 4);
  PARAM_NAMES.forEach((name, i) => (a[i] = p[name] ?? 0));
  return a.buffer;
}

/** What one GEMM-based kernel supplies. */
export interface GemmSpec {
  /** Directives that open the module (`enable f16;`), if any. */
  readonly directives?: string;
  /** WGSL declarations of the storage buffers at @binding(0…count-1). */
  readonly bindings: string;
  /** How many storage buffers `bindings` declares (the Params uniform follows them). */
  readonly bindingCount: number;
  /** Body of `fn loadA(z: i32, row: i32, k: i32) -> f32`. */
  readonly loadA: string;
  /** Body of `fn loadB(z: i32, k: i32, col: i32) -> f32`. */
  readonly loadB: string;
  /** Body of `fn store(z: i32, split: i32, row: i32, col: i32, v: f32)`. */
  readonly store: string;
  /** Whether A's consecutive k are adjacent in memory (then tile loads walk k fastest). */
  readonly aAlongK: boolean;
  /** Whether B's consecutive k are adjacent in memory (else its consecutive columns are). */
  readonly bAlongK: boolean;
  /** Extra WGSL (helper functions) placed before the loaders. */
  readonly helpers?: string;
  /**
   * Optional faster B loads for a B walked along its columns (bAlongK false): each invocation then
   * loads the same four columns c…c+3 at every step, so `setup` (statements, run once before the
   * K loop, with `c` and `z` in scope) can decode them once, and `body` (statements with `k` < kEnd
   * in scope) sets \`quad\` (a vec4<f32>, zero for columns ≥ N) from what setup decoded.
   */
  readonly bQuad?: { readonly setup: string; readonly body: string };
}

/**
 * A tile shape: a workgroup of `wx`×`wy` invocations, each computing a 4×4 block, covers a
 * (4·wy)×(4·wx) tile of C and steps `tk` deep along K through workgroup memory.
 */
export interface TileShape {
  readonly wx: number;
  readonly wy: number;
  readonly tk: number;
  /** No workgroup memory: each invocation reads its operands itself (for a K of a few steps). */
  readonly direct?: boolean;
}

/** 64×64 tiles for large products; 32×32 (TF.js's default shape) where 64×64 leaves the device idle or M ≤ 32. */
export const LARGE_TILES: TileShape = { wx: 16, wy: 16, tk: 16 };
export const SMALL_TILES: TileShape = { wx: 8, wy: 8, tk: 32 };
export const DIRECT_TILES: TileShape = { wx: 8, wy: 8, tk: 1, direct: true };

/** The WGSL source of a GEMM with the given loaders and tile shape. */
export function gemmSource(spec: GemmSpec, tile: TileShape): string {
  const { wx, wy, tk } = tile;
  const threads = wx * wy;
  const tm = 4 * wy;
  const tn = 4 * wx;
  // The A tile holds tk × tm/4 quads (four rows at one k), the B tile tk × tn/4 quads (four
  // columns at one k); invocation t loads quads t, t + threads, …, walking k fastest when the
  // operand is contiguous along k (coalesced reads), else its rows or columns.
  // (A loop, not unrolled: SwiftShader's compile time grows steeply with copies of the loaders.)
  const loads = (quadsPerK: number, alongK: boolean, load: (k: string, q: string) => string): string => {
    const [kk, q] = alongK ? [`id % ${tk}`, `id / ${tk}`] : [`id / ${quadsPerK}`, `id % ${quadsPerK}`];
    return `    for (var id = t; id < ${tk * quadsPerK}; id += ${threads}) { let kk = ${kk}; let q = ${q}; ${load('k0 + kk', 'q')} }`;
  };
  const loadA = loads(tm / 4, spec.aAlongK, (k, q) => {
    const r = `row0 + 4 * ${q}`;
    return `let k = ${k}; let r = ${r}; As[kk][q] = vec4<f32>(tileA(z, r, k, kEnd), tileA(z, r + 1, k, kEnd), tileA(z, r + 2, k, kEnd), tileA(z, r + 3, k, kEnd));`;
  });
  const bQuad = spec.bAlongK ? undefined : spec.bQuad;
  const loadB = loads(tn / 4, spec.bAlongK, (k, q) => {
    if (bQuad) return `let k = ${k}; var quad = vec4<f32>(); if (k < kEnd) { ${bQuad.body} } Bs[kk][q] = quad;`;
    const c = `col0 + 4 * ${q}`;
    return `let k = ${k}; let c = ${c}; Bs[kk][q] = vec4<f32>(tileB(z, k, c, kEnd), tileB(z, k, c + 1, kEnd), tileB(z, k, c + 2, kEnd), tileB(z, k, c + 3, kEnd));`;
  });
  // Walking columns, invocation t's B quad is the same at every step (threads is a multiple of tn/4).
  const bSetup = bQuad ? `  let c = col0 + 4 * (t % ${tn / 4});\n${bQuad.setup}` : '';
  const sharedLoop = `${bSetup}
  for (var k0 = kBegin; k0 < kEnd; k0 += ${tk}) {
${loadA}
${loadB}
    workgroupBarrier();
    for (var kk = 0; kk < ${tk}; kk++) {
      let a = As[kk][ty];
      let b = Bs[kk][tx];
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }`;
  // (Uses bQuad when given: a binding only it reads would otherwise drop out of the layout.)
  const directB = bQuad
    ? `var quad = vec4<f32>();\n    ${bQuad.body}\n    let b = quad;`
    : 'let b = vec4<f32>(tileB(z, k, c, kEnd), tileB(z, k, c + 1, kEnd), tileB(z, k, c + 2, kEnd), tileB(z, k, c + 3, kEnd));';
  const directLoop = `
  let r = row0 + 4 * ty;
  let c = col0 + 4 * tx;
${bQuad ? bQuad.setup : ''}
  for (var k = kBegin; k < kEnd; k++) {
    let a = vec4<f32>(tileA(z, r, k, kEnd), tileA(z, r + 1, k, kEnd), tileA(z, r + 2, k, kEnd), tileA(z, r + 3, k, kEnd));
    ${directB}
    acc0 += a.x * b;
    acc1 += a.y * b;
    acc2 += a.z * b;
    acc3 += a.w * b;
  }`;
  return `${spec.directives ?? ''}
${PARAMS_WGSL}
${spec.bindings}
@group(0) @binding(${spec.bindingCount}) var<uniform> u: Params;

${spec.helpers ?? ''}
fn loadA(z: i32, row: i32, k: i32) -> f32 {
${spec.loadA}
}
fn loadB(z: i32, k: i32, col: i32) -> f32 {
${spec.loadB}
}
fn store(z: i32, split: i32, row: i32, col: i32, v: f32) {
${spec.store}
}

fn tileA(z: i32, row: i32, k: i32, kEnd: i32) -> f32 {
  if (row < u.M && k < kEnd) { return loadA(z, row, k); }
  return 0.0;
}
fn tileB(z: i32, k: i32, col: i32, kEnd: i32) -> f32 {
  if (col < u.N && k < kEnd) { return loadB(z, k, col); }
  return 0.0;
}

// As[kk][q] holds rows 4q…4q+3 of the A tile at depth kk; Bs[kk][q] columns 4q…4q+3 of the B tile.
${tile.direct ? '' : `var<workgroup> As: array<array<vec4<f32>, ${tm / 4}>, ${tk}>;\nvar<workgroup> Bs: array<array<vec4<f32>, ${tn / 4}>, ${tk}>;`}

@compute @workgroup_size(${wx}, ${wy})
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tilesN = (u.N + ${tn - 1}) / ${tn};
  let tilesM = (u.M + ${tm - 1}) / ${tm};
  let tile = i32(wid.x + wid.y * groups.x);
  if (tile >= tilesN * tilesM) { return; }
  let z = i32(wid.z) / u.splits;
  let split = i32(wid.z) % u.splits;
  let row0 = (tile / tilesN) * ${tm};
  let col0 = (tile % tilesN) * ${tn};
  let kBegin = split * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  let t = i32(li);
  let tx = t % ${wx};
  let ty = t / ${wx};
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
${tile.direct ? directLoop : sharedLoop}
  let acc = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0; i < 4; i++) {
    let row = row0 + 4 * ty + i;
    if (row >= u.M) { break; }
    for (var j = 0; j < 4; j++) {
      let col = col0 + 4 * tx + j;
      if (col < u.N) { store(z, split, row, col, acc[i][j]); }
    }
  }
}
`;
}

/** A grid of `count` workgroups folded into x and y (each at most 65535); extra workgroups exit at once. */
export function foldGrid(count: number): [number, number] {
  if (count <= MAX_GROUPS_PER_DIM) return [count, 1];
  const y = Math.ceil(count / MAX_GROUPS_PER_DIM);
  return [Math.ceil(count / y), y];
}

/** Fewer large tiles than this leave a GPU's cores idle: then the small ones. */
const MIN_LARGE_TILES = 128;

let forcedTiles: TileShape | null = null;

/** Makes every GEMM use `tile` (null: the shape tileShape picks); for benchmarks comparing shapes. */
export function forceTileShape(tile: TileShape | null): void {
  forcedTiles = tile;
}

/** K up to this goes without workgroup memory (a barrier costs more than the few loads it saves). */
const DIRECT_MAX_K = 8;

/** The tile shape for `batch` M×N×K products. */
export function tileShape(m: number, n: number, k: number, batch: number): TileShape {
  if (forcedTiles) return forcedTiles;
  if (k <= DIRECT_MAX_K) return DIRECT_TILES;
  // At most 32 rows (conv1's input gradient has 3): a 64-row tile would compute twice the waste.
  if (m <= 32) return SMALL_TILES;
  return Math.ceil(m / 64) * Math.ceil(n / 64) * batch >= MIN_LARGE_TILES ? LARGE_TILES : SMALL_TILES;
}

/** How `splits` requested slices of K really cut it: `kChunk` a multiple of K_ALIGN, no empty slice. */
export function splitK(k: number, splits: number): { kChunk: number; splits: number } {
  if (splits <= 1) return { kChunk: Math.max(k, 1), splits: 1 };
  const kChunk = Math.ceil(k / splits / K_ALIGN) * K_ALIGN;
  return { kChunk, splits: Math.ceil(k / kChunk) };
}

/**
 * Records one GEMM: `batch` independent M×N products (z), each with K cut into `splits` slices
 * (as splitK cuts them; the caller sizes its partial sums with splitK too).
 */
export function dispatchGemm(
  ctx: KernelContext,
  key: string,
  spec: () => GemmSpec,
  buffers: readonly GPUBuffer[],
  params: Params & { M: number; N: number; K: number },
  batch: number,
  splits = 1,
  tile: TileShape = tileShape(params.M, params.N, params.K, batch * splits),
): void {
  const pipeline = ctx.pipeline(`${key}.${tile.wx}x${tile.wy}x${tile.tk}${tile.direct ? 'd' : ''}`, gemmSource(spec(), tile));
  const cut = splitK(params.K, splits);
  const tiles = Math.ceil(params.M / (4 * tile.wy)) * Math.ceil(params.N / (4 * tile.wx));
  const [x, y] = foldGrid(tiles);
  ctx.dispatch(pipeline, buffers, packParams({ ...params, ...cut }), [x, y, batch * cut.splits]);
}

/** WGSL for the fused epilogue: bias (when `bias` names an expression) then ReLU that keeps NaN. */
export function epilogue(v: string, bias: string | null, relu: boolean): string {
  const withBias = bias === null ? v : `(${v} + ${bias})`;
  return relu ? `relu(${withBias})` : withBias;
}

/** ReLU whose NaN stays NaN (`max(v, 0.0)` may return either operand for a NaN). */
export const RELU_WGSL = 'fn relu(v: f32) -> f32 { return select(v, 0.0, v < 0.0); }';
