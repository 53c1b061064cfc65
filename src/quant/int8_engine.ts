// Runs an int8 network (int8_spec.ts): on the oneDNN addon where it loads (native/int8.cpp: VNNI
// or AMX-INT8 kernels, int8 kept between layers), else on the TypeScript reference (slow, and it
// says so once). ALEXNET_BACKEND=reference chooses the reference too (through the registry's
// defaultBackendName, never read here), so the CLI's --backend reaches int8 models as well.
import { createNativeInt8Net } from '../backend/native/index.js';
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
  const { net, reason } = which === 'native' ? createNativeInt8Net(spec) : { net: null, reason: '' };
  if (net) return { name: 'native', outputSize: size, run: net.run, runAsync: net.runAsync };
  if (which === 'native' && !warned) {
    process.stderr.write(`alexnet: the native addon does not load (${reason}); int8 runs on the slow TypeScript reference\n`);
    warned = true;
  }
  return {
    name: 'reference',
    outputSize: size,
    run: (x, n) => runInt8Reference(spec, x, n),
    runAsync: (x, n) => Promise.resolve(runInt8Reference(spec, x, n)),
  };
}
