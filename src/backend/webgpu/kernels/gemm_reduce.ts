// The reductions around the GEMMs: summing split-K partial products into the result, and the bias
// gradient (gy summed over everything but its channel).
import type { KernelContext } from '../kernel_context.js';
import { foldGrid } from './gemm.js';

const SUM_SPLITS = `
struct Params { count: i32, splits: i32, pad0: i32, pad1: i32 }
@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let i = i32((wid.x + wid.y * groups.x) * 256u + li);
  if (i >= u.count) { return; }
  var s = 0.0;
  for (var k = 0; k < u.splits; k++) { s += partial[k * u.count + i]; }
  out[i] = s;
}
`;

/** out[i] = Σ_s partial[s·count + i] over `splits` slices. */
export function sumSplits(ctx: KernelContext, partial: GPUBuffer, out: GPUBuffer, count: number, splits: number): void {
  const [x, y] = foldGrid(Math.ceil(count / 256));
  ctx.dispatch(ctx.pipeline('gemm.sumSplits', SUM_SPLITS), [partial, out], new Int32Array([count, splits, 0, 0]).buffer, [x, y]);
}

const CHANNEL_SUMS = `
struct Params { n: i32, channels: i32, plane: i32, pad0: i32 }
@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let ch = i32(wid.x + wid.y * groups.x);
  if (ch >= u.channels) { return; }
  let t = i32(li);
  var s = 0.0;
  let total = u.n * u.plane;
  for (var e = t; e < total; e += 256) {
    let img = e / u.plane;
    s += gy[(img * u.channels + ch) * u.plane + e % u.plane];
  }
  partial[t] = s;
  workgroupBarrier();
  for (var stride = 128; stride > 0; stride >>= 1u) {
    if (t < stride) { partial[t] += partial[t + stride]; }
    workgroupBarrier();
  }
  if (t == 0) { out[ch] = partial[0]; }
}
`;

/** out[ch] = Σ_{img, p} gy[(img·channels + ch)·plane + p]: the bias gradient of a convolution (plane = oh·ow) or a linear layer (plane = 1). */
export function channelSums(ctx: KernelContext, gy: GPUBuffer, out: GPUBuffer, n: number, channels: number, plane: number): void {
  const [x, y] = foldGrid(channels);
  ctx.dispatch(ctx.pipeline('gemm.channelSums', CHANNEL_SUMS), [gy, out], new Int32Array([n, channels, plane, 0]).buffer, [x, y]);
}
