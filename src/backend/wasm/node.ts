// The synchronous Node path to the wasm backend, for setBackend('wasm') and ALEXNET_BACKEND=wasm:
// the module is read and compiled synchronously and worker readiness is awaited with
// Atomics.wait. One backend per thread count is kept, so that choosing it again reuses it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataError } from '../../errors.js';
import { ReferenceBackend } from '../reference/index.js';
import { kernelsUrl } from './assets.js';
import { assemble, moduleFile, threadCount, type WasmOptions } from './create.js';
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
  const source = opts.wasm ?? kernelsUrl(moduleFile(threads));
  if (source instanceof URL && source.protocol === 'file:' && !existsSync(source))
    throw new DataError(`wasm backend: ${fileURLToPath(source)} is missing (build it with npm run build:wasm)`);
  const module = new WebAssembly.Module(readModuleSync(source));
  const backend = assemble(module, threads, nodePlatform, new ReferenceBackend(), { ackTimeoutMs: opts.ackTimeoutMs });
  backend.pool.waitReadySync();
  if (!custom) cache.set(threads, backend);
  return backend;
}
