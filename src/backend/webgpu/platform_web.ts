// The browser side of the webgpu backend: the GPU worker is a module Web Worker, started with a
// message carrying the init. The URL may be given (a bundle puts the worker elsewhere).
import type { WorkerPort } from './channel.js';
import type { Command, GpuWorkerInit } from './protocol.js';

export function spawnWebWorker(init: GpuWorkerInit, url: URL, onExit: (why: string) => void): WorkerPort {
  const worker = new Worker(url, { type: 'module' });
  worker.onerror = (e) => onExit(`the WebGPU worker failed: ${e.message}`);
  worker.postMessage(init);
  return {
    post: (cmds: Command[], transfer: ArrayBuffer[]) => worker.postMessage(cmds, transfer),
    terminate: () => worker.terminate(),
  };
}
