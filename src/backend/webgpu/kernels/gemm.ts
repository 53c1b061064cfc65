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

/** Rows and columns of C per workgroup, and the K depth of one shared-memory step. */
export const TILE_M = 64;
export const TILE_N = 64;
export const TILE_K = 16;

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
}

/** The WGSL source of a GEMM with the given loaders. */
export function gemmSource(spec: GemmSpec): string {
  // Each of the 256 invocations loads one vec4 of each 64×16 tile: four rows (or columns) at one k.
  const aIndex = spec.aAlongK ? 'let kk = t % 16; let q = t / 16;' : 'let q = t % 16; let kk = t / 16;';
  const bIndex = spec.bAlongK ? 'let kk = t % 16; let q = t / 16;' : 'let q = t % 16; let kk = t / 16;';
  return `
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
var<workgroup> As: array<array<vec4<f32>, 16>, 16>;
var<workgroup> Bs: array<array<vec4<f32>, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let tilesN = (u.N + ${TILE_N - 1}) / ${TILE_N};
  let tilesM = (u.M + ${TILE_M - 1}) / ${TILE_M};
  let tile = i32(wid.x + wid.y * groups.x);
  if (tile >= tilesN * tilesM) { return; }
  let z = i32(wid.z) / u.splits;
  let split = i32(wid.z) % u.splits;
  let row0 = (tile / tilesN) * ${TILE_M};
  let col0 = (tile % tilesN) * ${TILE_N};
  let kBegin = split * u.kChunk;
  let kEnd = min(u.K, kBegin + u.kChunk);
  let t = i32(li);
  let tx = t % 16;
  let ty = t / 16;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += ${TILE_K}) {
    {
      ${aIndex}
      let k = k0 + kk;
      let r = row0 + 4 * q;
      As[kk][q] = vec4<f32>(tileA(z, r, k, kEnd), tileA(z, r + 1, k, kEnd), tileA(z, r + 2, k, kEnd), tileA(z, r + 3, k, kEnd));
    }
    {
      ${bIndex}
      let k = k0 + kk;
      let c = col0 + 4 * q;
      Bs[kk][q] = vec4<f32>(tileB(z, k, c, kEnd), tileB(z, k, c + 1, kEnd), tileB(z, k, c + 2, kEnd), tileB(z, k, c + 3, kEnd));
    }
    workgroupBarrier();
    for (var kk = 0; kk < ${TILE_K}; kk++) {
      let a = As[kk][ty];
      let b = Bs[kk][tx];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
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

/** How `splits` requested slices of K really cut it: `kChunk` a multiple of TILE_K, no empty slice. */
export function splitK(k: number, splits: number): { kChunk: number; splits: number } {
  if (splits <= 1) return { kChunk: Math.max(k, 1), splits: 1 };
  const kChunk = Math.ceil(k / splits / TILE_K) * TILE_K;
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
): void {
  const pipeline = ctx.pipeline(key, gemmSource(spec()));
  const cut = splitK(params.K, splits);
  const tiles = Math.ceil(params.M / TILE_M) * Math.ceil(params.N / TILE_N);
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
