// Entry of the webgpu backend's GPU worker (Node worker_threads or a browser module Worker): it
// gets the platform's GPU (the `webgpu` package's Dawn under Node, navigator.gpu in a browser),
// asks for an adapter and a device with the adapter's largest buffers (and `shader-f16` where the
// adapter offers it: f16 weights are then read natively), writes the limits and features into the
// status block and says it is ready (or writes why not), bumps the heartbeat while alive, and runs
// the command batches the client posts.
import { Executor } from './executor.js';
import {
  FEATURES,
  FEATURE_SHADER_F16,
  HEARTBEAT,
  HEARTBEAT_MS,
  LIMIT_MAX_BINDING,
  LIMIT_MAX_BUFFER,
  READY,
  STATE,
  writeFailure,
  type Command,
  type GpuWorkerInit,
} from './protocol.js';

interface Link {
  init: GpuWorkerInit;
  gpu: () => Promise<GPU>;
  onBatch: (handle: (cmds: Command[]) => void) => void;
  exit: () => void;
}

/** Not literals, so that bundlers leave the Node side out of the browser worker. */
const NODE_THREADS = 'node:worker_threads';
const NODE_GPU = './gpu_node.js';

async function link(): Promise<Link> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; exit(code?: number): never } }).process;
  if (proc?.versions?.node) {
    const threads = (await import(/* @vite-ignore */ NODE_THREADS)) as typeof import('node:worker_threads');
    const { nodeGpu } = (await import(/* @vite-ignore */ NODE_GPU)) as typeof import('./gpu_node.js');
    return {
      init: threads.workerData as GpuWorkerInit,
      gpu: nodeGpu,
      onBatch: (handle) => threads.parentPort?.on('message', (cmds: Command[]) => handle(cmds)),
      exit: () => proc.exit(1),
    };
  }
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent) => void) | null;
    navigator: { gpu?: GPU };
    close(): void;
  };
  // The first message is the init; later ones are batches (queued here until the device is ready).
  const early: Command[][] = [];
  let handler: ((cmds: Command[]) => void) | null = null;
  const init = await new Promise<GpuWorkerInit>((resolve) => {
    scope.onmessage = (e: MessageEvent) => {
      scope.onmessage = (m: MessageEvent) => (handler ? handler(m.data as Command[]) : early.push(m.data as Command[]));
      resolve(e.data as GpuWorkerInit);
    };
  });
  return {
    init,
    gpu: async () => {
      if (!scope.navigator.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing in a Worker)');
      return scope.navigator.gpu;
    },
    onBatch: (handle) => {
      handler = handle;
      for (const cmds of early.splice(0)) handle(cmds);
    },
    exit: () => scope.close(),
  };
}

/** The GPU object and adapter, held for the worker's life: Dawn's instance dies with its GPU object. */
const held: unknown[] = [];

async function start(l: Link): Promise<Executor> {
  const gpu = await l.gpu();
  held.push(gpu);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    throw new Error(
      node
        ? "no WebGPU adapter: Dawn found no Vulkan device (set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json for SwiftShader, the CPU Vulkan driver of Debian's chromium package, or install a GPU's Vulkan driver)"
        : 'no WebGPU adapter: this browser offers WebGPU but no adapter (is the GPU blocklisted, or WebGPU disabled?)',
    );
  }
  held.push(adapter);
  const largest = l.init.largeBuffers;
  const f16: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
  const device = await adapter.requestDevice({
    requiredFeatures: f16,
    requiredLimits: largest
      ? { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }
      : {},
  });
  const limits = new Float64Array(l.init.status);
  limits[LIMIT_MAX_BUFFER] = device.limits.maxBufferSize;
  limits[LIMIT_MAX_BINDING] = device.limits.maxStorageBufferBindingSize;
  Atomics.store(new Int32Array(l.init.status), FEATURES, device.features.has('shader-f16') ? FEATURE_SHADER_F16 : 0);
  return new Executor(device, l.init.status, l.exit);
}

const l = await link();
const words = new Int32Array(l.init.status);
const beat = setInterval(() => Atomics.add(words, HEARTBEAT, 1), HEARTBEAT_MS);
(beat as { unref?: () => void }).unref?.();
try {
  const executor = await start(l);
  l.onBatch((cmds) => executor.run(cmds));
  Atomics.store(words, STATE, READY);
  Atomics.notify(words, STATE);
} catch (err) {
  writeFailure(l.init.status, err instanceof Error ? err.message : String(err));
}
