// The backends only Node has, loaded by the registry through '#platform-backends' (package.json
// "imports", condition "node"): 'native', the oneDNN addon, and 'wasm' and 'webgpu' made
// synchronously (their workers are worker_threads; a page makes them with loadWasmBackend and
// loadWebGpuBackend instead). Precision: wasm computes in f32 only; webgpu in f32 or with f16
// weights (its loader refuses anything else). A browser bundle gets platform_neutral.ts instead, so nothing here
// reaches it. A webgpu request without a GPU adapter is an error, not a fallback: the reason
// (no Vulkan driver: VK_ICD_FILENAMES) is the message.
import type { BackendLoader, BackendName } from './registry.js';
import { tryLoadNative } from './native/load.js';
import { UsageError } from '../errors.js';
import { loadWasmBackendSync } from './wasm/node.js';
import { loadWebGpuBackendSync } from './webgpu/node.js';

export const platformBackends: Partial<Record<BackendName, BackendLoader>> = {
  native: tryLoadNative,
  wasm: (opts) => {
    if (opts.precision !== undefined && opts.precision !== 'f32')
      throw new UsageError(`the wasm backend computes in f32 only: precision ${opts.precision} is not supported`);
    return { backend: loadWasmBackendSync({ threads: opts.threads }), reason: '' };
  },
  webgpu: (opts) => ({ backend: loadWebGpuBackendSync({ precision: opts.precision }), reason: '' }),
};
