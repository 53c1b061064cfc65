// Public surface of the native backend: the backend class, its loader, its int8 networks (for
// src/quant) and diagnostics (live native buffers, ISA, FMA-peak and read-bandwidth probes).
import { loadAddon, loadedAddon, type NativeInfo } from './addon.js';

export { NativeBackend } from './native_backend.js';
export { tryLoadNative, type NativeOptions } from './load.js';
export { createNativeInt8Net, type NativeInt8Net } from './int8_net.js';
export type { NativeInfo } from './addon.js';

/** Native allocations alive now (0 when the addon is not loaded). */
export function nativeLiveBuffers(): number {
  return loadedAddon()?.liveBuffers() ?? 0;
}

/** oneDNN version, ISA and bf16 support, or null when the addon cannot be loaded. */
export function nativeInfo(): NativeInfo | null {
  return loadAddon().addon?.info() ?? null;
}

/** GFLOP/s of a large f32 oneDNN matmul: the practical FMA peak for the conv efficiency report. */
export function measureFmaPeak(size = 2048, reps = 3): number {
  const addon = loadAddon().addon;
  if (!addon) throw new Error('native backend: the addon is not built');
  return addon.matmulGflops(size, size, size, reps);
}

/** Memory read bandwidth in GB/s (a buffer of `mib` MiB, far larger than the caches; best of `reps`). */
export function measureReadBandwidth(mib = 1024, reps = 3): number {
  const addon = loadAddon().addon;
  if (!addon) throw new Error('native backend: the addon is not built');
  return addon.readBandwidth(mib, reps);
}
