// The wasm backend in headless Chromium (playwright-core, Debian's /usr/bin/chromium), from the
// compiled dist/ served on 127.0.0.1: in a Worker of a cross-origin-isolated page it runs on two
// threads (Web Workers over shared memory) and gives the same bits as on one thread and as in
// Node (the relaxed-SIMD build, where built, agrees to float32 rounding); on a page's main thread, or
// without COOP/COEP, it runs on one thread and says so once.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium, type BrowserContext } from 'playwright-core';
import { loadWasmBackendSync } from '../src/backend/wasm/node.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser_helpers.js';
import type { Backend } from '../src/backend/backend.js';

const dist = new URL('../', import.meta.url); // dist/test/ -> dist/

/** The probe: a few kernels (a grouped convolution with ReLU, its weight gradient, a large exp) on one backend. */
function probe(be: Backend): number[][] {
  const g = { n: 2, c: 4, h: 9, w: 9, oc: 6, kh: 3, kw: 3, oh: 9, ow: 9, strideH: 1, strideW: 1, padH: 1, padW: 1, groups: 2 };
  const seq = (n: number, f: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * f));
  const x = be.fromArray(seq(2 * 4 * 81, 0.37), [2, 4, 9, 9]);
  const w = be.fromArray(seq(6 * 2 * 9, 1.3), [6, 2, 3, 3]);
  const y = be.conv2d(x, w, null, g, true);
  const { gw } = be.conv2dBackwardWeights(y, x, g, false);
  const big = be.unary('exp', be.fromArray(seq(50_000, 0.01), [50_000]), [50_000]);
  return [Array.from(be.toArray(y, [2, 6, 9, 9])), Array.from(be.toArray(gw, [6, 2, 3, 3])), Array.from(be.toArray(big, [50_000]))];
}

const WORKER = `import { loadWasmBackend } from './src/backend/wasm/index.js';
const probe = ${probe.toString()};
self.onmessage = async (e) => {
  try {
    const be = await loadWasmBackend({ threads: e.data });
    postMessage({ threads: be.threads, module: be.moduleName, isolated: self.crossOriginIsolated, out: probe(be) });
  } catch (err) {
    postMessage({ error: String(err && err.stack || err) });
  }
};`;

const PAGE = `<!doctype html><script type="module">
import { loadWasmBackend } from './src/backend/wasm/index.js';
const inWorker = (threads) => new Promise((resolve) => {
  const w = new Worker('./probe_worker.js', { type: 'module' });
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ error: e.message });
  w.postMessage(threads);
});
window.results = (async () => {
  const main = await loadWasmBackend({ threads: 2 });
  return { mainThreads: main.threads, one: await inWorker(1), two: await inWorker(2) };
})().catch((err) => ({ error: String(err.stack || err) }));
</script>`;

let server: FastifyInstance;
let browser: BrowserContext;
let base = '';
let userDir = '';

before(async () => {
  server = Fastify();
  server.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/isolated/')) {
      void reply.header('Cross-Origin-Opener-Policy', 'same-origin');
      void reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
    }
  });
  for (const prefix of ['isolated', 'plain']) {
    server.get(`/${prefix}/page.html`, (_req, reply) => reply.type('text/html').send(PAGE));
    server.get(`/${prefix}/probe_worker.js`, (_req, reply) => reply.type('text/javascript').send(WORKER));
    await server.register(fastifyStatic, { root: dist, prefix: `/${prefix}/`, decorateReply: prefix === 'isolated' });
  }
  await server.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  userDir = mkdtempSync(join(tmpdir(), 'alexnet-chromium-'));
  browser = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (userDir) rmSync(userDir, { recursive: true, force: true });
});

interface WorkerResult {
  threads?: number;
  module?: string;
  isolated?: boolean;
  out?: number[][];
  error?: string;
}
interface PageResult {
  mainThreads?: number;
  one?: WorkerResult;
  two?: WorkerResult;
  error?: string;
}

async function open(prefix: string): Promise<{ result: PageResult; warnings: string[] }> {
  const page = await browser.newPage();
  const warnings: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'warning') warnings.push(m.text());
  });
  try {
    await page.goto(`${base}/${prefix}/page.html`);
    const result = (await page.evaluate('window.results')) as PageResult;
    return { result, warnings };
  } finally {
    await page.close();
  }
}

test(
  'cross-origin isolated: two threads in a Worker, the same bits as one thread and as Node; one thread on the main thread',
  { timeout: 120_000 },
  async () => {
    const { result, warnings } = await open('isolated');
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.one?.error, undefined, result.one?.error);
    assert.equal(result.two?.error, undefined, result.two?.error);
    assert.equal(result.two?.isolated, true);
    assert.equal(result.two?.threads, 2, 'two threads in a Worker');
    assert.equal(result.one?.threads, 1);
    assert.equal(result.mainThreads, 1, "a page's main thread may not block");
    // Chromium has relaxed SIMD: the relaxed build where it was built, else the SIMD128 one.
    const relaxedBuilt = existsSync(new URL('wasm/alexnet_mt_relaxed.wasm', dist));
    assert.equal(result.two?.module, relaxedBuilt ? 'alexnet_mt_relaxed.wasm' : 'alexnet_mt.wasm');
    assert.equal(warnings.filter((w) => /one thread/.test(w)).length, 1, `said once: ${warnings.join(' | ')}`);
    const node = probe(loadWasmBackendSync({ threads: 1 }));
    assert.deepEqual(result.two?.out, result.one?.out, 'two threads = one thread');
    if (result.one?.module === 'alexnet.wasm') assert.deepEqual(result.one.out, node, 'the browser = Node');
    else assertNear(result.one?.out ?? [], node, 'the browser (fused multiply-add) ≈ Node');
  },
);

/** Within float32 rounding of a different summation (FMA rounds once where mul + add rounds twice). */
function assertNear(actual: number[][], expected: number[][], what: string): void {
  expected.forEach((e, i) => {
    const a = actual[i] ?? [];
    const scale = Math.max(...e.map(Math.abs));
    const worst = Math.max(...e.map((v, j) => Math.abs((a[j] ?? NaN) - v)));
    assert.ok(worst <= 1e-5 * scale, `${what}: result ${i} differs by ${worst} (scale ${scale})`);
  });
}

test('without cross-origin isolation: one thread, even in a Worker', { timeout: 120_000 }, async () => {
  const { result } = await open('plain');
  assert.equal(result.error, undefined, result.error);
  assert.equal(result.two?.error, undefined, result.two?.error);
  assert.equal(result.two?.isolated, false);
  assert.equal(result.two?.threads, 1);
  assert.equal(result.mainThreads, 1);
});
