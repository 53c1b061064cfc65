// The browser side of the wasm backend: Web Workers for the pool (module workers, started with
// a message carrying the module and the shared memory), and whether this thread may block in
// Atomics.wait (only a cross-origin-isolated Worker may; a page's main thread may not).
import type { WorkerInit } from './control.js';
import type { Platform, WorkerLink } from './pool.js';
import { workerUrl } from './assets.js';

export const webPlatform: Platform = {
  spawn(init: WorkerInit, onExit: (why: string) => void): WorkerLink {
    const worker = new Worker(workerUrl(), { type: 'module' });
    worker.onerror = (e) => onExit(`failed: ${e.message}`);
    worker.postMessage(init);
    return { terminate: () => worker.terminate() };
  },
};

/** Why this thread cannot run the pool, or null when it can. */
export function whyNoThreads(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; WorkerGlobalScope?: unknown; document?: unknown };
  if (typeof SharedArrayBuffer === 'undefined' || g.crossOriginIsolated === false)
    return 'the page is not cross-origin isolated (COOP/COEP headers), so no shared memory';
  if (g.WorkerGlobalScope === undefined || g.document !== undefined)
    return "a page's main thread may not block in Atomics.wait (run the model in a Worker for threads)";
  return null;
}

export function cores(): number {
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}
