// The backends only Node has, loaded by the registry through '#platform-backends' (package.json
// "imports", condition "node"): 'native', the oneDNN addon, and 'wasm' made synchronously (its
// workers are worker_threads; a page makes it with loadWasmBackend instead). A browser bundle gets
// platform_neutral.ts instead, so nothing here reaches it.
import type { BackendLoader, BackendName } from './registry.js';
import { tryLoadNative } from './native/load.js';
import { UsageError } from '../errors.js';
import { loadWasmBackendSync } from './wasm/node.js';

export const platformBackends: Partial<Record<BackendName, BackendLoader>> = {
  native: tryLoadNative,
  wasm: (opts) => {
    if (opts.precision === 'bf16') throw new UsageError('the wasm backend computes in f32 only: precision bf16 is not supported');
    return { backend: loadWasmBackendSync({ threads: opts.threads }), reason: '' };
  },
};
