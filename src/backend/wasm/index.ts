// The wasm backend's public entry: loadWasmBackend works in Node and in browsers (in a page's
// main thread or without cross-origin isolation it runs on one thread, and says so once).
import { ReferenceBackend } from '../reference/index.js';
import { kernelsUrl } from './assets.js';
import { assemble, moduleFile, threadCount, type WasmOptions } from './create.js';
import type { Platform } from './pool.js';
import type { WasmBackend } from './wasm_backend.js';

export type { WasmOptions } from './create.js';
export type { WasmBackend } from './wasm_backend.js';

const isNode = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node !== undefined;
let saidOneThread = false;

export async function loadWasmBackend(opts: WasmOptions = {}): Promise<WasmBackend> {
  let platform: Platform;
  let threads: number;
  let bytes: () => Promise<ArrayBuffer | Uint8Array<ArrayBuffer>>;
  if (isNode) {
    const node = await import('./platform_node.js');
    platform = node.nodePlatform;
    threads = threadCount(opts.threads, node.cores());
    bytes = async () => node.readModuleSync(opts.wasm ?? kernelsUrl(moduleFile(threads)));
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
      const source = opts.wasm ?? kernelsUrl(moduleFile(threads));
      if (!(source instanceof URL)) return source;
      const response = await fetch(source);
      if (!response.ok) throw new Error(`wasm backend: cannot fetch ${source.href} (${response.status})`);
      return response.arrayBuffer();
    };
  }
  const module = await WebAssembly.compile(await bytes());
  const backend = assemble(module, threads, platform, new ReferenceBackend(), { ackTimeoutMs: opts.ackTimeoutMs });
  await backend.pool.waitReady();
  return backend;
}
