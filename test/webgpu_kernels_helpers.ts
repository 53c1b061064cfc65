// Shared helpers for the WGSL kernel tests and the per-layer benchmark: a KernelContext on Dawn
// (the `webgpu` package) in Node, falling back to SwiftShader's Vulkan driver when no GPU's driver
// is configured, and buffers to and from Float32Arrays.
import { KernelContext } from '../src/backend/webgpu/kernel_context.js';
import { Generator } from '../src/random.js';

/** Chromium's SwiftShader Vulkan driver (a CPU implementation), used when VK_ICD_FILENAMES is unset. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Dawn's GPU object: Dawn processes its events (mapAsync's resolution) only while it is referenced. */
let gpu: GPU | null = null;

export interface OpenedContext {
  readonly ctx: KernelContext;
  /** The adapter, in words. */
  readonly adapter: string;
  /** Destroys the device and lets Node exit. */
  close(): void;
}

/** A KernelContext on the first Dawn adapter, or the reason why none exists. */
export async function openContext(): Promise<OpenedContext | { reason: string }> {
  process.env['VK_ICD_FILENAMES'] ??= SWIFTSHADER_ICD;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  gpu = create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    gpu = null;
    return { reason: `no WebGPU adapter (VK_ICD_FILENAMES=${process.env['VK_ICD_FILENAMES']})` };
  }
  // FC6's weight (9216×4096 floats, 151 MB) exceeds the default 128 MiB binding limit: ask for the adapter's.
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const info = adapter.info;
  return {
    ctx: new KernelContext(device),
    adapter: `${info.vendor} ${info.architecture} ${info.description}`.trim(),
    close: () => {
      device.destroy();
      gpu = null;
    },
  };
}

export function upload(ctx: KernelContext, data: Float32Array<ArrayBuffer>): GPUBuffer {
  const buffer = ctx.buffer(data.byteLength);
  ctx.device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

export async function download(ctx: KernelContext, buffer: GPUBuffer, count: number): Promise<Float32Array> {
  return new Float32Array(await ctx.read(buffer, count * 4));
}

/** Uniform values in [-1, 1) from a fixed seed. */
export function random(count: number, seed: number): Float32Array<ArrayBuffer> {
  const gen = new Generator(seed);
  const a = new Float32Array(count);
  for (let i = 0; i < count; i++) a[i] = gen.uniform() * 2 - 1;
  return a;
}
