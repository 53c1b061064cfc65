// The backends of a platform without Node ("browser" and "default" conditions of
// '#platform-backends' in package.json): none beyond the registry's own 'reference'. Backends
// made asynchronously (WebAssembly, WebGPU) are made by their own factory (loadWasmBackend,
// loadWebGpuBackend) and given to setBackend.
import type { BackendLoader, BackendName } from './registry.js';

export const platformBackends: Partial<Record<BackendName, BackendLoader>> = {};
