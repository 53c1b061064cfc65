// The conformance suite on the webgpu backend inside Chromium (--enable-unsafe-webgpu: SwiftShader's
// adapter here): test/webgpu_browser_conformance_worker.ts, bundled with the library's browser
// entry and the GPU worker beside it, runs every PyTorch golden case, the non-finite cases and the
// narrow AlexNet-2012 network in a Worker of a cross-origin-isolated page; each outcome becomes a
// test here, held to test/conformance.test.ts's f32 tolerance (1e-4 relative, ops and network).
// Skipped, with the reason, only where Chromium gives no adapter.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { launchBrowser, type Browser } from './browser_helpers.js';
import { root } from './train_helpers.js';
import type { CaseOutcome } from './webgpu_browser_conformance_worker.js';
import { CHROMIUM_WEBGPU_ARGS, webGpuSkip } from './webgpu_browser_helpers.js';

const TOL = 1e-4;
// The build script, from the source tree (tsc does not copy it into dist/).
const { bundleEntry, bundleWebGpuWorker } = (await import(
  pathToFileURL(join(root, 'scripts', 'bundle_browser.mjs')).href
)) as typeof import('../scripts/bundle_browser.mjs');
const gpuSkip = await webGpuSkip();
const golden = join(root, 'test', 'fixtures', 'golden');
const files = readdirSync(golden).filter((f) => f.endsWith('.json') && f !== 'mini_alexnet.json');
const PAGE = `<!doctype html><link rel="icon" href="data:,"><script type="module">
window.results = new Promise((resolve) => {
  const w = new Worker('/w/conformance.js', { type: 'module' });
  w.onmessage = (e) => resolve(e.data);
  w.onerror = (e) => resolve({ ok: false, error: 'the conformance worker failed: ' + e.message });
  w.postMessage({ base: location.origin + '/golden/', files: ${JSON.stringify(files)} });
});
</script>`;

type Reply = { ok: true; backend: string; outcomes: CaseOutcome[] } | { ok: false; error: string };

describe('conformance [webgpu in Chromium]: the golden files, non-finite cases and network in a page', { skip: gpuSkip }, () => {
  let server: FastifyInstance;
  let browser: Browser;
  let reply: Reply;
  const out = mkdtempSync(join(tmpdir(), 'alexnet-webgpu-conformance-'));

  before(async () => {
    await bundleEntry({
      entry: join(root, 'test', 'webgpu_browser_conformance_worker.ts'),
      outfile: join(out, 'conformance.js'),
      logLevel: 'error',
    });
    await bundleWebGpuWorker(out);
    server = Fastify();
    server.addHook('onSend', async (_req, r) => {
      void r.header('Cross-Origin-Opener-Policy', 'same-origin');
      void r.header('Cross-Origin-Embedder-Policy', 'require-corp');
    });
    server.get('/', (_req, r) => r.type('text/html').send(PAGE));
    await server.register(fastifyStatic, { root: out, prefix: '/w/' });
    await server.register(fastifyStatic, { root: golden, prefix: '/golden/', decorateReply: false });
    await server.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser(CHROMIUM_WEBGPU_ARGS);
    await browser.page.goto(`http://127.0.0.1:${(server.server.address() as AddressInfo).port}/`);
    reply = await browser.page.evaluate(() => (window as unknown as { results: Promise<Reply> }).results);
  });

  after(async () => {
    await Promise.allSettled([browser?.close(), server?.close()]);
    rmSync(out, { recursive: true, force: true });
  });

  test('the page runs the cases on the webgpu backend', () => {
    assert.ok(reply.ok, reply.ok ? '' : reply.error);
    assert.equal(reply.backend, 'webgpu');
    // Every golden file, every non-finite case in both modes, dropout and the network.
    assert.ok(reply.outcomes.length >= files.length + 2, `only ${reply.outcomes.length} outcomes`);
    assert.deepEqual(browser.errors, []);
  });

  test('every case within 1e-4 (relative) of PyTorch, NaN and infinities where PyTorch has them', (t) => {
    assert.ok(reply.ok, reply.ok ? '' : reply.error);
    const failed: string[] = [];
    let worst = 0;
    for (const o of reply.outcomes) {
      if (o.failure) failed.push(`${o.name}: ${o.failure}`);
      for (const e of o.errors) {
        worst = Math.max(worst, e.rel);
        if (!(e.rel <= TOL)) failed.push(`${o.name}: ${e.what} differs by ${e.rel.toExponential(3)} (relative) > ${TOL}`);
      }
    }
    t.diagnostic(`${reply.outcomes.length} cases; largest relative error ${worst.toExponential(2)}`);
    assert.deepEqual(failed, []);
  });
});
