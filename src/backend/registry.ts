// Which backend new tensors use. The native oneDNN backend is the default wherever its addon
// loads; otherwise the library says so once (on stderr) and runs on the reference backend.
// ALEXNET_BACKEND=reference|native forces a choice.
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';
import { tryLoadNative, type NativeOptions } from './native/load.js';

export type BackendName = 'reference' | 'native';

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

export function getBackend(): Backend {
  if (current) return current;
  const env = process.env.ALEXNET_BACKEND;
  if (env && env !== 'reference' && env !== 'native') {
    throw new Error(`ALEXNET_BACKEND must be 'reference' or 'native', got '${env}'`);
  }
  return setBackend((env as BackendName | undefined) ?? 'native');
}
