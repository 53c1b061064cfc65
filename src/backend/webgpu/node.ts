// The synchronous Node path to the webgpu backend, for setBackend('webgpu') and
// ALEXNET_BACKEND=webgpu: the worker is started and its readiness awaited with Atomics.wait.
// One backend per precision is kept, so that choosing it again reuses it (a new one replaces it
// once it failed).
import { finish, spawn, webGpuPrecision, type WebGpuOptions } from './create.js';
import { spawnNodeWorker } from './platform_node.js';
import { STARTING, STATE } from './protocol.js';
import type { WebGpuBackend } from './webgpu_backend.js';

const cached = new Map<string, WebGpuBackend>();

export function loadWebGpuBackendSync(opts: WebGpuOptions = {}): WebGpuBackend {
  const precision = webGpuPrecision(opts.precision);
  const custom = Object.keys(opts).some((k) => k !== 'precision');
  const kept = cached.get(precision);
  if (kept && !custom && !kept.failed) return kept;
  const s = spawn(opts, spawnNodeWorker);
  const t0 = Date.now();
  while (Atomics.load(s.words, STATE) === STARTING && Date.now() - t0 < s.startMs) Atomics.wait(s.words, STATE, STARTING, 50);
  const backend = finish(s, Date.now() - t0);
  if (!custom) cached.set(precision, backend);
  return backend;
}
