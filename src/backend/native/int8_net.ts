// The native backend's int8 networks for src/quant (native/int8.cpp: VNNI or AMX-INT8 kernels,
// int8 kept between layers): what the int8 engine needs from the addon, so that quant never
// reaches into the addon's loader.
import type { Int8NetSpec } from '../../quant/int8_spec.js';
import { loadAddon } from './addon.js';

/** An int8 network built by the addon (its spec checked, its weights copied). */
export interface NativeInt8Net {
  /** The last layer's output for n images (f32 NCHW). */
  run(x: Float32Array, n: number): Float32Array;
  /** The same on the libuv thread pool. */
  runAsync(x: Float32Array, n: number): Promise<Float32Array>;
}

/** The addon's int8 network for `spec`, or null with the reason the addon does not load. */
export function createNativeInt8Net(spec: Int8NetSpec): { net: NativeInt8Net | null; reason: string } {
  const { addon, reason } = loadAddon();
  if (!addon) return { net: null, reason };
  const handle = addon.int8NetCreate(spec);
  return {
    net: { run: (x, n) => addon.int8NetRun(handle, x, n), runAsync: (x, n) => addon.int8NetRunAsync(handle, x, n) },
    reason: '',
  };
}
