// What this browser's WebAssembly can do, for the page's notice: the wasm backend needs WebAssembly
// with SIMD, and for threads SharedArrayBuffer in a cross-origin isolated page (the server sends
// COOP/COEP for that). Each check validates a tiny module instead of trusting the user agent.
const SIMD_MODULE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

export interface WasmFeatures {
  wasm: boolean;
  simd: boolean;
  threads: boolean;
}

export function wasmFeatures(): WasmFeatures {
  const wasm = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  const simd = wasm && WebAssembly.validate(SIMD_MODULE);
  const threads = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
  return { wasm, simd, threads };
}

/** The page's message about missing features, or null when nothing is missing. */
export function missingFeaturesMessage(f: WasmFeatures): string | null {
  if (!f.wasm) return 'This browser has no WebAssembly: the model runs on the plain TypeScript backend, which is several times slower.';
  if (!f.simd) return 'This browser lacks WebAssembly SIMD: the model runs on the plain TypeScript backend, which is several times slower.';
  if (!f.threads)
    return 'WebAssembly threads are unavailable (no SharedArrayBuffer: the page is not cross-origin isolated): the model computes on one thread.';
  return null;
}
