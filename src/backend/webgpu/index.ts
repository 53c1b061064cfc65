// The webgpu backend's public entry: loadWebGpuBackend works in Node (Dawn through the `webgpu`
// package) and in browsers (navigator.gpu), without blocking. Reading a tensor synchronously
// (toArray, a loss) blocks, which only a Worker may do in a browser: a page runs the model in a
// Worker, or reads with `await tensor.data()`.
import { finish, spawn, type WebGpuOptions } from './create.js';
import { STARTING, STATE, waitAsync } from './protocol.js';
import type { WebGpuBackend } from './webgpu_backend.js';

export type { WebGpuOptions } from './create.js';
export type { WebGpuBackend } from './webgpu_backend.js';

const isNode = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
/** Not a literal, so that bundlers leave the Node side (worker_threads) out of browser bundles. */
const NODE_PLATFORM = './platform_node.js';

export async function loadWebGpuBackend(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  let s;
  if (isNode) {
    const node = (await import(/* @vite-ignore */ NODE_PLATFORM)) as typeof import('./platform_node.js');
    s = spawn(opts, node.spawnNodeWorker);
  } else {
    const web = await import('./platform_web.js');
    const url = opts.workerUrl ?? new URL('./worker_main.js', import.meta.url);
    s = spawn(opts, (init, onExit) => web.spawnWebWorker(init, url, onExit));
  }
  const t0 = Date.now();
  while (Atomics.load(s.words, STATE) === STARTING && Date.now() - t0 < s.startMs) {
    await waitAsync(s.words, STATE, STARTING, 50);
  }
  return finish(s, Date.now() - t0);
}
