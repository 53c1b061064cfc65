// The GPU side's toolkit shared by every WGSL kernel: one GPUDevice, compute pipelines compiled
// once and cached by key, storage buffers, and dispatches recorded into one command encoder (one
// compute pass) until `flush` submits them. WebGPU orders dispatches within a pass and makes each
// one's writes visible to the next, so kernels chain without explicit barriers.
//
// Binding convention for `dispatch`: the storage buffers at @binding(0…k-1) of @group(0), in the
// order given, then the uniform block (if any) at @binding(k). Limits kernels must respect (the
// WebGPU defaults, which every adapter offers): 256 invocations per workgroup, 16 KiB of
// workgroup memory, 65535 workgroups per grid dimension.

import type { WeightFormat } from './kernels/f16.js';

// WebGPU's flag values, spelled out: under Node the GPUBufferUsage/GPUMapMode globals exist only
// once the `webgpu` package has installed them, after this module may have loaded.
const MAP_READ = 0x0001;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
const STORAGE = 0x0080;

/** Usage of every tensor buffer: bound as storage, copied in and out. */
export const STORAGE_USAGE = STORAGE | COPY_SRC | COPY_DST;

/** Most workgroups one grid dimension may have. */
export const MAX_GROUPS_PER_DIM = 65535;

export class KernelContext {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private transient: GPUBuffer[] = [];
  private scratchBuffer: GPUBuffer | null = null;

  /** Whether the device was created with `shader-f16` (then f16 weights are read as native array<f16>). */
  readonly shaderF16: boolean;

  constructor(readonly device: GPUDevice) {
    this.shaderF16 = device.features.has('shader-f16');
  }

  /** How a matrix kernel reads its weights: f32, or f16 (native where the device has shader-f16, else packed in u32 words). */
  weightFormat(f16: boolean): WeightFormat {
    if (!f16) return 'f32';
    return this.shaderF16 ? 'f16' : 'f16-packed';
  }

  /** The pipeline compiled from `code` under `key` (compiled on first use; keys must be unique per source). */
  pipeline(key: string, code: string, entryPoint = 'main'): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: key, code });
      p = this.device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** A storage buffer of at least `bytes` (rounded up to a multiple of 4, never empty). */
  buffer(bytes: number, label?: string): GPUBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    return this.device.createBuffer({ label, size, usage: STORAGE_USAGE });
  }

  /**
   * A storage buffer of at least `bytes` for a kernel's intermediate results (split-K partial
   * sums), shared by every kernel: its contents are valid only until the next kernel that asks for
   * it. Dispatches run in recording order, so reusing it across kernels needs no synchronisation;
   * a buffer outgrown is destroyed at the next flush.
   */
  scratch(bytes: number): GPUBuffer {
    const old = this.scratchBuffer;
    if (old && old.size >= bytes) return old;
    if (old) this.transient.push(old);
    const grown = this.buffer(Math.max(bytes, old ? old.size * 2 : 0), 'scratch');
    this.scratchBuffer = grown;
    return grown;
  }

  /** Records one dispatch of `pipeline` over `groups` workgroups with `buffers` (and `uniforms`) bound. */
  dispatch(
    pipeline: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
    uniforms: ArrayBuffer | null,
    groups: readonly [number, number?, number?],
  ): void {
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    if (uniforms) {
      const u = this.device.createBuffer({
        size: Math.max(16, Math.ceil(uniforms.byteLength / 16) * 16),
        usage: UNIFORM,
        mappedAtCreation: true,
      });
      new Uint8Array(u.getMappedRange()).set(new Uint8Array(uniforms));
      u.unmap();
      this.transient.push(u);
      entries.push({ binding: buffers.length, resource: { buffer: u } });
    }
    const [x, y = 1, z = 1] = groups;
    if (x > MAX_GROUPS_PER_DIM || y > MAX_GROUPS_PER_DIM || z > MAX_GROUPS_PER_DIM) {
      throw new Error(`${pipeline.label}: grid ${x}×${y}×${z} exceeds ${MAX_GROUPS_PER_DIM} workgroups per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
    pass.dispatchWorkgroups(x, y, z);
  }

  /** The current command encoder with no compute pass open (for buffer copies and clears). */
  commands(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.commands();
    this.device.queue.submit([encoder.finish()]);
    this.encoder = null;
    for (const u of this.transient) u.destroy();
    this.transient = [];
  }

  /** Copies `bytes` bytes of `src` (from `offset`) back to the CPU, after everything recorded before. */
  async read(src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
    this.commands().copyBufferToBuffer(src, offset, staging, 0, size);
    this.flush();
    try {
      await staging.mapAsync(1 /* GPUMapMode.READ */);
      return staging.getMappedRange().slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    return this.pass;
  }
}
