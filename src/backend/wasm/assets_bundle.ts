// Where the wasm backend's files are in a browser bundle: next to it (dist/browser/, as
// scripts/bundle_browser.mjs lays them out). The bundler puts this file in place of assets.ts,
// which knows the tsc layout (dist/wasm/, dist/src/backend/wasm/); both export the same two
// functions, and no other file knows where the assets are.

/** The URL of a kernels module (alexnet.wasm, alexnet_mt.wasm) copied next to the bundle. */
export function kernelsUrl(file: string): URL {
  return new URL(`./${file}`, import.meta.url);
}

/** The URL of the thread workers' script, bundled next to the library. */
export function workerUrl(): URL {
  return new URL('./wasm_worker.js', import.meta.url);
}
