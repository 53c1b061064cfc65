// The web page on WebGPU in a real browser (Debian's Chromium with --enable-unsafe-webgpu, which
// gives SwiftShader's software adapter here, a GPU's where there is one) against the real `alexnet
// web` server: the engine picks the webgpu backend by itself and the page shows it and its adapter;
// a bundled image classified there gives the native backend's logits to 1e-4 relative (max |diff| /
// max |logit|: f32 sums in another order); 20 training steps on the Train tab lower the loss. With
// the plain flags (no adapter) the same page runs on wasm and says why WebGPU is not used. Skipped,
// with the reason, only where Chromium gives no adapter.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nativeBackend, setBackend } from '../src/backend/registry.js';
import { modelFromWeights } from '../src/io/model_from_weights.js';
import { readWeightsFile, saveWeights } from '../src/io/weights.js';
import { createModel } from '../src/models/alexnet.js';
import { Generator } from '../src/random.js';
import { noGrad, Tensor } from '../src/tensor.js';
import type { DebugHook } from '../src/web/debug_hook.js';
import { chromiumSkip, ensureWebBundle, launchBrowser, startWebCli, type Browser, type WebServer } from './browser_helpers.js';
import { relError } from './helpers.js';
import { root, tempDir, tinyFashionMnist } from './train_helpers.js';
import { CHROMIUM_WEBGPU_ARGS, webGpuSkip } from './webgpu_browser_helpers.js';

type Hook = Omit<DebugHook, 'engine' | 'ready'>;
const native = nativeBackend().backend;
const gpuSkip = await webGpuSkip();

/** The page's debug hook as plain data (typed arrays come back as plain objects: rebuilt here). */
async function hookOf(browser: Browser): Promise<Hook> {
  const h = await browser.page.evaluate(() => {
    const a = (window as unknown as { __alexnet: Hook }).__alexnet;
    const last = a.last && { ...a.last, logits: [...a.last.logits], input: [...a.last.input] };
    return { backend: a.backend, adapter: a.adapter, model: a.model, last, train: a.train, version: a.version };
  });
  const last = h.last && { ...h.last, logits: Float32Array.from(h.last.logits), input: Float32Array.from(h.last.input) };
  return { ...h, last } as Hook;
}

async function openPage(browser: Browser, url: string): Promise<void> {
  await browser.page.goto(url);
  await browser.page.evaluate(() => (window as unknown as { __alexnet: { ready: Promise<void> } }).__alexnet.ready);
}

describe('the web page on WebGPU in Chromium', { skip: chromiumSkip }, () => {
  let server: WebServer;
  let gpu: Browser | undefined;
  const dir = tempDir('webgpu-web');
  const weights = join(dir, 'v1-10.pth');

  before(async () => {
    // A dist/web from before the webgpu backend lacks its GPU worker: bundle the page again then.
    if (!existsSync(join(root, 'dist', 'web', 'webgpu_worker.js'))) {
      const { bundleWeb } = (await import(join(root, 'scripts', 'bundle_web.js'))) as { bundleWeb(o: { quiet: boolean }): Promise<void> };
      await bundleWeb({ quiet: true });
    } else await ensureWebBundle();
    saveWeights(createModel('alexnet-v1', { numClasses: 10, inputSize: 65, rng: new Generator(7) }), weights);
    server = await startWebCli(['--data', tinyFashionMnist(64, 10)]);
    if (!gpuSkip) {
      gpu = await launchBrowser(CHROMIUM_WEBGPU_ARGS);
      await openPage(gpu, server.url);
    }
  });

  after(async () => {
    await Promise.allSettled([gpu?.close(), server?.stop()]);
  });

  test('the engine picks webgpu by itself; the page shows it and the adapter', { skip: gpuSkip }, async () => {
    const h = await hookOf(gpu!);
    assert.equal(h.backend, 'webgpu');
    assert.ok(h.adapter && h.adapter.length > 0, 'no adapter name');
    assert.equal(await gpu!.page.locator('#backend').innerText(), `Backend: webgpu on ${h.adapter}`);
    assert.equal(await gpu!.page.locator('#notice').isHidden(), true);
    assert.deepEqual(gpu!.errors, []);
  });

  test("a bundled image classified on webgpu gives the native backend's logits to 1e-4 relative", { skip: gpuSkip }, async (t) => {
    const page = gpu!.page;
    await page.selectOption('#arch', 'alexnet-v1');
    let v = (await hookOf(gpu!)).version;
    await page.setInputFiles('#weights-file', weights);
    await page.waitForFunction((x) => (window as unknown as { __alexnet: Hook }).__alexnet.version > x, v, { timeout: 60_000 });
    v = (await hookOf(gpu!)).version;
    await page.click('img[data-sample=cat]');
    await page.waitForFunction((x) => (window as unknown as { __alexnet: Hook }).__alexnet.version > x, v, { timeout: 120_000 });
    const { last, model } = await hookOf(gpu!);
    assert.ok(last && model);
    assert.equal(last.logits.length, 10);
    // The page's own preprocessed input through the native backend (reference where the addon is not built).
    setBackend(native ?? 'reference');
    const m = modelFromWeights(readWeightsFile(weights), { source: weights, arch: 'alexnet-v1', inputSize: model.inputSize });
    const expected = noGrad(() => m.forward(Tensor.fromArray(last.input, [1, ...last.shape])).toArray());
    assert.ok(Math.max(...expected.map(Math.abs)) > 1e-3, 'logits too small to compare');
    const err = relError(last.logits, expected);
    t.diagnostic(`logits on webgpu: max |page − ${native ? 'native' : 'reference'}| / max |logit| = ${err.toExponential(2)}`);
    assert.ok(err <= 1e-4, `relative error ${err}`);
  });

  test('the Train tab runs 20 steps on webgpu and the loss falls', { skip: gpuSkip }, async (t) => {
    const page = gpu!.page;
    await page.click('[data-tab=train]');
    // One image in batches of one: the same batch each step, which 20 steps learn. (SwiftShader
    // emulates the GPU on the CPU: a step of alexnet-v1 took ~30 s on this busy 2-core machine.)
    await page.fill('#train-steps', '20');
    await page.fill('#train-batch', '1');
    await page.fill('#train-subset', '1');
    await page.click('#train-start');
    await page.waitForFunction(() => document.querySelector('#train-status')!.textContent!.includes('done'), null, { timeout: 1_200_000 });
    const h = await hookOf(gpu!);
    assert.equal(h.backend, 'webgpu');
    const losses = h.train.map((p) => p.loss);
    assert.equal(losses.length, 20);
    assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(
      mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.05,
      `the loss did not fall: ${losses.map((l) => l.toFixed(3)).join(', ')}`,
    );
    const median = h.train.map((p) => p.ms).sort((a, b) => a - b)[10]!;
    t.diagnostic(`losses ${losses.map((l) => l.toFixed(3)).join(', ')}; median step ${median.toFixed(0)} ms`);
    assert.deepEqual(gpu!.errors, []);
  });

  test('without WebGPU (the plain flags) the page runs on wasm and says why', async () => {
    const plain = await launchBrowser();
    try {
      await openPage(plain, server.url);
      const h = await hookOf(plain);
      assert.equal(h.backend, 'wasm');
      assert.equal(h.adapter, null);
      assert.match(await plain.page.locator('#backend').innerText(), /^Backend: wasm \(WebGPU not used: navigator\.gpu gave no adapter\)$/);
      assert.deepEqual(plain.errors, []);
    } finally {
      await plain.close();
    }
  });
});
