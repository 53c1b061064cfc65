// Which backend new tensors use, platform-neutral. Backends are made by loaders, one per name:
// 'reference' is built in; the platform adds its own through the '#platform-backends' import
// (package.json "imports"), which resolves to platform_node.ts under Node ('native': the oneDNN
// addon) and to platform_neutral.ts (no more) in a browser bundle. Adding a backend is one line
// in one of those tables. The default is 'native' wherever it has a loader (falling back, with one
// notice on stderr, to the reference backend where its addon cannot load), else 'reference';
// ALEXNET_BACKEND=reference|native|wasm|webgpu forces a choice where there is an environment (Node).
import { platformBackends } from '#platform-backends';
import { UsageError } from '../errors.js';
import type { Backend, ClassifierPrecision, Precision } from './backend.js';
import { ReferenceBackend } from './reference/index.js';

export const BACKEND_NAMES = ['native', 'reference', 'wasm', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What a backend may be asked for when it is made (the native backend reads both). */
export interface BackendOptions {
  threads?: number;
  precision?: Precision;
  /** Linear layers' weights in inference (the native backend only; others refuse anything but f32). */
  classifierPrecision?: ClassifierPrecision;
}

/** Makes a backend, or says why it cannot here (the addon is missing, say). */
export type BackendLoader = (opts: BackendOptions) => { backend: Backend | null; reason: string };

let current: Backend | null = null;
let reference: ReferenceBackend | null = null;
const warned = new Set<string>();

export function referenceBackend(): ReferenceBackend {
  reference ??= new ReferenceBackend();
  return reference;
}

const builtIn: Partial<Record<BackendName, BackendLoader>> = {
  reference: () => ({ backend: referenceBackend(), reason: '' }),
};

/** The loader for `name` here, looked up when asked (the platform's module may still be loading while this one is). */
function loaderOf(name: BackendName): BackendLoader | undefined {
  return builtIn[name] ?? platformBackends[name];
}

/** The Node process when there is one (the library never assumes it: browsers have none). */
const nodeProcess = (globalThis as { process?: { env?: Record<string, string | undefined>; stderr?: { write(s: string): unknown } } })
  .process;

/** One line for the user: stderr under Node, the console elsewhere. */
function notice(line: string): void {
  if (nodeProcess?.stderr) nodeProcess.stderr.write(line + '\n');
  else console.warn(line);
}

/** Makes the backend `name` here, or null with the reason (no loader on this platform, or the loader's own). */
export function loadBackend(name: BackendName, opts: BackendOptions = {}): { backend: Backend | null; reason: string } {
  const loader = loaderOf(name);
  return loader ? loader(opts) : { backend: null, reason: `there is no ${name} backend on this platform` };
}

/** The native backend, or null (with the reason) when its addon cannot be loaded here. */
export function nativeBackend(opts: BackendOptions = {}): { backend: Backend | null; reason: string } {
  return loadBackend('native', opts);
}

/** Picks the backend by name (or takes one made elsewhere); an unavailable one falls back to the reference backend with one notice. */
export function setBackend(choice: BackendName | Backend, opts: BackendOptions = {}): Backend {
  if (typeof choice !== 'string') {
    current = choice;
    return current;
  }
  const { backend, reason } = loadBackend(choice, opts);
  const classifier = opts.classifierPrecision ?? 'f32';
  if (classifier !== 'f32' && backend?.classifierPrecision === undefined) {
    throw new UsageError(
      `classifier precision ${classifier} needs the native backend` +
        (backend ? ` (the ${backend.name} backend is chosen)` : ` (${reason})`),
    );
  }
  // f16 weights are one backend's (webgpu); every other computes in f32 (or bf16), never silently instead.
  if (opts.precision === 'f16' && backend?.precision !== 'f16') {
    throw new UsageError(
      `precision f16 (f16 weights) needs the webgpu backend` + (backend ? ` (the ${backend.name} backend is chosen)` : ` (${reason})`),
    );
  }
  if (backend) {
    current = backend;
  } else {
    if (!warned.has(choice)) {
      notice(`alexnet: ${choice} backend unavailable (${reason}); using the reference TypeScript backend`);
      warned.add(choice);
    }
    current = referenceBackend();
  }
  return current;
}

/** The backend asked for by ALEXNET_BACKEND, else 'native' where this platform has it (it falls back where its addon cannot load), else 'reference'. */
export function defaultBackendName(): BackendName {
  const env = nodeProcess?.env?.ALEXNET_BACKEND;
  if (env === undefined || env === '') return loaderOf('native') ? 'native' : 'reference';
  if (!(BACKEND_NAMES as readonly string[]).includes(env)) {
    throw new UsageError(`ALEXNET_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, got '${env}'`);
  }
  return env as BackendName;
}

export function getBackend(): Backend {
  return current ?? setBackend(defaultBackendName());
}
