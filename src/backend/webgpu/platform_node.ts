// The Node side of the webgpu backend: the GPU worker is a worker_threads Worker (unref'd, so it
// never keeps the process alive) whose exit or failure is recorded in the status block at once
// when the client is not blocked (a blocked client sees the heartbeat stop instead). At the
// process's exit the client first has the worker stop between two commands (Channel.quiet): Node
// stops worker threads then, and one stopped inside a Dawn call aborts the whole process
// (FATAL ERROR … napi_throw).
import { Worker } from 'node:worker_threads';
import type { WorkerPort } from './channel.js';
import type { Command, GpuWorkerInit } from './protocol.js';

export function spawnNodeWorker(init: GpuWorkerInit, onExit: (why: string) => void): WorkerPort {
  // No inherited flags: some (--input-type=module with -e) keep a worker from starting while the
  // caller blocks in Atomics.wait.
  const worker = new Worker(new URL('./worker_main.js', import.meta.url), { workerData: init, execArgv: [] });
  worker.unref();
  worker.on('error', (err) => onExit(`the WebGPU worker failed: ${err.message}`));
  worker.on('exit', (code) => onExit(`the WebGPU worker exited (code ${code})`));
  return {
    post: (cmds: Command[], transfer: ArrayBuffer[]) => worker.postMessage(cmds, transfer),
    terminate: () => void worker.terminate(),
    atProcessExit: (fn) => process.once('exit', fn),
  };
}
