// Runs an int8 network (int8_spec.ts): on the oneDNN addon where it loads (native/int8.cpp: VNNI
// or AMX-INT8 kernels, int8 kept between layers), else on the TypeScript reference (slow, and it
// says so once). ALEXNET_BACKEND=reference chooses the reference too (through the registry's
// defaultBackendName, never read here), so the CLI's --backend reaches int8 models as well.
import { loadAddon, type Int8NetHandle, type NativeAddon } from '../backend/native/addon.js';
import { runInt8Reference } from './int8_reference.js';
import { outputSize, type Int8NetSpec } from './int8_spec.js';

export interface Int8Engine {
  /** 'native' (oneDNN) or 'reference' (TypeScript). */
  readonly name: 'native' | 'reference';
  /** Values per image of the output. */
  readonly outputSize: number;
  run(x: Float32Array, n: number): Float32Array;
  runAsync(x: Float32Array, n: number): Promise<Float32Array>;
}

let warned = false;

/** An engine for `spec`: `which` 'native' (falls back to the reference where the addon does not load) or 'reference'. */
export function createInt8Engine(spec: Int8NetSpec, which: 'native' | 'reference' = 'native'): Int8Engine {
  const size = outputSize(spec);
  const addon: NativeAddon | null = which === 'native' ? loadAddon().addon : null;
  if (addon) {
    const net: Int8NetHandle = addon.int8NetCreate(spec);
    return {
      name: 'native',
      outputSize: size,
      run: (x, n) => addon.int8NetRun(net, x, n),
      runAsync: (x, n) => addon.int8NetRunAsync(net, x, n),
    };
  }
  if (which === 'native' && !warned) {
    process.stderr.write(`alexnet: the native addon does not load (${loadAddon().reason}); int8 runs on the slow TypeScript reference\n`);
    warned = true;
  }
  return {
    name: 'reference',
    outputSize: size,
    run: (x, n) => runInt8Reference(spec, x, n),
    runAsync: (x, n) => Promise.resolve(runInt8Reference(spec, x, n)),
  };
}
