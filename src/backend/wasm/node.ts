// The synchronous Node path to the wasm backend, for setBackend('wasm') and ALEXNET_BACKEND=wasm:
// the module is read and compiled synchronously and worker readiness is awaited with
// Atomics.wait. One backend per thread count is kept, so that choosing it again reuses it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataError } from '../../errors.js';
import { ReferenceBackend } from '../reference/index.js';
import { kernelsUrl } from './assets.js';
import { assemble, moduleFiles, threadCount, type WasmOptions } from './create.js';
import { cores, nodePlatform, readModuleSync } from './platform_node.js';
import type { WasmBackend } from './wasm_backend.js';

const cache = new Map<number, WasmBackend>();

/** Threads: the option, else ALEXNET_NUM_THREADS, else min(cores, 4). */
function threadsFor(opts: WasmOptions): number {
  const env = process.env.ALEXNET_NUM_THREADS;
  const fromEnv = env && /^[1-9][0-9]*$/.test(env) ? Number(env) : undefined;
  return threadCount(opts.threads ?? fromEnv, cores());
}

export function loadWasmBackendSync(opts: WasmOptions = {}): WasmBackend {
  const threads = threadsFor(opts);
  const custom = opts.wasm !== undefined || opts.ackTimeoutMs !== undefined;
  const cached = custom ? undefined : cache.get(threads);
  if (cached) return cached;
  const files = moduleFiles(threads);
  const file = files.find((f) => existsSync(kernelsUrl(f)));
  if (opts.wasm === undefined && file === undefined)
    throw new DataError(`wasm backend: ${fileURLToPath(kernelsUrl(files.at(-1)!))} is missing (build it with npm run build:wasm)`);
  const module = new WebAssembly.Module(readModuleSync(opts.wasm ?? kernelsUrl(file!)));
  const name = opts.wasm === undefined ? file! : 'custom';
  const backend = assemble(module, threads, nodePlatform, new ReferenceBackend(), name, { ackTimeoutMs: opts.ackTimeoutMs });
  backend.pool.waitReadySync();
  if (!custom) cache.set(threads, backend);
  return backend;
}
