// Which backend new tensors use. The native oneDNN backend is the default wherever its addon
// loads; otherwise the library says so once (on stderr) and runs on the reference backend.
// ALEXNET_BACKEND=reference|native|wasm forces a choice.
import { UsageError } from '../errors.js';
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';
import { tryLoadNative, type NativeOptions } from './native/load.js';
import { loadAddon } from './native/addon.js';
import { loadWasmBackendSync } from './wasm/node.js';

export const BACKEND_NAMES = ['native', 'reference', 'wasm'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

let current: Backend | null = null;
let reference: ReferenceBackend | null = null;
let warned = false;

export function referenceBackend(): ReferenceBackend {
  reference ??= new ReferenceBackend();
  return reference;
}

/** The native backend, or null (with the reason) when its addon cannot be loaded here. */
export function nativeBackend(opts: NativeOptions = {}): { backend: Backend | null; reason: string } {
  return tryLoadNative(opts);
}

/** Picks the backend by name; 'native' falls back to the reference backend with one warning. */
export function setBackend(choice: BackendName | Backend, opts: NativeOptions = {}): Backend {
  if (typeof choice !== 'string') {
    current = choice;
    return current;
  }
  if (choice === 'reference') {
    current = referenceBackend();
    return current;
  }
  if (choice === 'wasm') {
    if (opts.precision === 'bf16') throw new UsageError('the wasm backend computes in f32 only: precision bf16 is not supported');
    current = loadWasmBackendSync({ threads: opts.threads });
    return current;
  }
  const { backend, reason } = nativeBackend(opts);
  if (backend) {
    current = backend;
  } else {
    if (!warned) {
      process.stderr.write(`alexnet: native backend unavailable (${reason}); using the reference TypeScript backend\n`);
      warned = true;
    }
    current = referenceBackend();
  }
  return current;
}

/** The backend asked for by ALEXNET_BACKEND, else 'native' (which falls back to the reference backend where its addon cannot load). */
export function defaultBackendName(): BackendName {
  const env = process.env.ALEXNET_BACKEND;
  if (env === undefined || env === '') return 'native';
  if (!(BACKEND_NAMES as readonly string[]).includes(env)) {
    throw new UsageError(`ALEXNET_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, got '${env}'`);
  }
  return env as BackendName;
}

/** Whether the native backend can compute in bf16 on this CPU (false where its addon does not load). */
export function nativeHasBf16(): boolean {
  return loadAddon().addon?.info().bf16 === true;
}

export function getBackend(): Backend {
  return current ?? setBackend(defaultBackendName());
}
