// The wasm backend's public entry: loadWasmBackend works in Node and in browsers (in a page's
// main thread or without cross-origin isolation it runs on one thread, and says so once).
import { ReferenceBackend } from '../reference/index.js';
import { kernelsUrl } from './assets.js';
import { assemble, moduleFiles, threadCount, type WasmOptions } from './create.js';
import type { Platform } from './pool.js';
import type { WasmBackend } from './wasm_backend.js';

export type { WasmOptions } from './create.js';
export type { WasmBackend } from './wasm_backend.js';

const isNode = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
let saidOneThread = false;
/** Not a literal, so that bundlers leave the Node side (node:fs, worker_threads) out of browser bundles. */
const NODE_PLATFORM = './platform_node.js';

export async function loadWasmBackend(opts: WasmOptions = {}): Promise<WasmBackend> {
  let platform: Platform;
  let threads: number;
  /** The module's bytes and name: the given one, else the first packaged file there is. */
  let bytes: () => Promise<{ data: ArrayBuffer | Uint8Array<ArrayBuffer>; name: string }>;
  if (isNode) {
    const node = (await import(/* @vite-ignore */ NODE_PLATFORM)) as typeof import('./platform_node.js');
    platform = node.nodePlatform;
    threads = threadCount(opts.threads, node.cores());
    bytes = async () => {
      if (opts.wasm !== undefined) return { data: node.readModuleSync(opts.wasm), name: 'custom' };
      const files = moduleFiles(threads);
      const name = files.find((f) => node.exists(kernelsUrl(f))) ?? files.at(-1)!;
      return { data: node.readModuleSync(kernelsUrl(name)), name };
    };
  } else {
    const web = await import('./platform_web.js');
    platform = web.webPlatform;
    threads = threadCount(opts.threads, web.cores());
    const why = web.whyNoThreads();
    if (threads > 1 && why !== null) {
      if (!saidOneThread) console.warn(`alexnet: the wasm backend runs on one thread: ${why}`);
      saidOneThread = true;
      threads = 1;
    }
    bytes = async () => {
      if (opts.wasm instanceof ArrayBuffer) return { data: opts.wasm, name: 'custom' };
      const urls: [URL, string][] = opts.wasm ? [[opts.wasm, 'custom']] : moduleFiles(threads).map((f) => [kernelsUrl(f), f]);
      let status = '';
      for (const [url, name] of urls) {
        const response = await fetch(url);
        if (response.ok) return { data: await response.arrayBuffer(), name };
        status += ` ${url.href} (${response.status})`;
      }
      throw new Error(`wasm backend: cannot fetch the kernels:${status}`);
    };
  }
  const { data, name } = await bytes();
  const module = await WebAssembly.compile(data);
  const backend = assemble(module, threads, platform, new ReferenceBackend(), name, { ackTimeoutMs: opts.ackTimeoutMs });
  await backend.pool.waitReady();
  return backend;
}
