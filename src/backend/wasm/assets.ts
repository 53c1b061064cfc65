// Where the wasm backend's files are: the compiled kernels (dist/wasm/*.wasm) and the worker
// entry (the compiled worker_main.js). The only file that knows these locations; the browser
// bundle substitutes assets_bundle.ts for it.

/** The kernels module `file` (alexnet.wasm or alexnet_mt.wasm): dist/wasm/FILE from dist/src/backend/wasm/. */
export function kernelsUrl(file: string): URL {
  return new URL(`../../../wasm/${file}`, import.meta.url);
}

/** The worker entry, compiled beside this file. */
export function workerUrl(): URL {
  return new URL('./worker_main.js', import.meta.url);
}
