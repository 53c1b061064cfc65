// The Node side of the wasm backend: worker_threads workers for the pool (unref'd, so they never
// keep the process alive), the kernels read from disk synchronously, and the core count.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerInit } from './control.js';
import type { Platform, WorkerLink } from './pool.js';
import { workerUrl } from './assets.js';

export const nodePlatform: Platform = {
  spawn(init: WorkerInit, onExit: (why: string) => void): WorkerLink {
    // No inherited flags: workers only run kernels, and some flags (--input-type=module with -e)
    // keep a worker from starting while the caller blocks in Atomics.wait.
    const worker = new Worker(workerUrl(), { workerData: init, execArgv: [] });
    worker.unref();
    let told = false;
    const tell = (why: string) => {
      if (!told) onExit(why);
      told = true;
    };
    worker.on('error', (err) => tell(`failed: ${err.message}`));
    worker.on('exit', (code) => tell(`exited (code ${code})`));
    return { terminate: () => void worker.terminate() };
  },
};

export function cores(): number {
  return availableParallelism();
}

/** The bytes of a kernels module given as a file: URL (or the bytes themselves). */
export function readModuleSync(source: URL | ArrayBuffer): ArrayBuffer | Uint8Array<ArrayBuffer> {
  return source instanceof URL ? new Uint8Array(readFileSync(source)) : source;
}

export function exists(url: URL): boolean {
  return existsSync(url);
}
