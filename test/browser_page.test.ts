// The web page in a real browser (Debian's Chromium through playwright-core) against the real
// `alexnet web` server: it loads without console errors; a bundled image classified with weights
// written here gives the native backend's logits (on the page's own preprocessed input) to 1e-4;
// a feature-map view renders and is not blank; clear messages for weights of another architecture
// and for a file that is not an image; the Train tab's 20 steps lower the loss; the downloaded .pth
// loads in the CLI. One browser and one server for the file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { nativeBackend, setBackend } from '../src/backend/registry.js';
import { decodeImageFile } from '../src/data/decode.js';
import { applyTransforms } from '../src/data/transforms.js';
import { modelFromWeights } from '../src/io/model_from_weights.js';
import { readPth } from '../src/io/pth/index.js';
import { readWeightsFile, saveWeights } from '../src/io/weights.js';
import { createModel } from '../src/models/alexnet.js';
import { Generator } from '../src/random.js';
import { noGrad, Tensor } from '../src/tensor.js';
import { evalTransforms } from '../src/web/engine/preprocess.js';
import type { DebugHook } from '../src/web/debug_hook.js';
import { chromiumSkip, ensureWebBundle, launchBrowser, startWebCli, type Browser, type WebServer } from './browser_helpers.js';
import { root, tempDir, tinyFashionMnist } from './train_helpers.js';

type Hook = Omit<DebugHook, 'engine' | 'ready'>;
const native = nativeBackend().backend;

describe('the web page in Chromium', { skip: chromiumSkip }, () => {
  let browser: Browser;
  let server: WebServer;
  const dir = tempDir('web');
  const weights = join(dir, 'v1-10.pth');

  /** The page's debug hook as plain data (typed arrays come back as plain objects: rebuilt here). */
  const hook = async (): Promise<Hook> => {
    const h = await browser.page.evaluate(() => {
      const a = (window as unknown as { __alexnet: Hook }).__alexnet;
      const last = a.last && { ...a.last, logits: [...a.last.logits], input: [...a.last.input] };
      return { model: a.model, last, train: a.train, version: a.version };
    });
    const last = h.last && { ...h.last, logits: Float32Array.from(h.last.logits), input: Float32Array.from(h.last.input) };
    return { ...h, last } as Hook;
  };
  const message = (): Promise<string> => browser.page.locator('#message').innerText();
  /** Waits until the page has shown something new after `version`. */
  const nextVersion = (version: number): Promise<unknown> =>
    browser.page.waitForFunction((v) => (window as unknown as { __alexnet: Hook }).__alexnet.version > v, version, { timeout: 60_000 });

  before(async () => {
    await ensureWebBundle();
    // A small model (alexnet-v1 at 65×65, 10 classes, 3 channels) so that the page loads it quickly.
    saveWeights(createModel('alexnet-v1', { numClasses: 10, inputSize: 65, rng: new Generator(7) }), weights);
    server = await startWebCli(['--data', tinyFashionMnist(64, 10)]);
    browser = await launchBrowser();
    await browser.page.goto(server.url);
    await browser.page.evaluate(() => (window as unknown as { __alexnet: { ready: Promise<void> } }).__alexnet.ready);
  });

  after(async () => {
    // The server goes even when the browser has died (a crash would otherwise leave it running).
    await Promise.allSettled([browser?.close(), server?.stop()]);
  });

  test('the page loads, cross-origin isolated, with no console errors', async () => {
    assert.deepEqual(browser.errors, []);
    assert.equal(await browser.page.evaluate(() => crossOriginIsolated), true);
    assert.match(await browser.page.locator('#status').innerText(), /No model yet/);
  });

  test("a bundled image classified with weights written by the test gives the native backend's logits to 1e-4", async (t) => {
    await browser.page.selectOption('#arch', 'alexnet-v1');
    let v = (await hook()).version;
    await browser.page.setInputFiles('#weights-file', weights);
    await nextVersion(v);
    const { model } = await hook();
    assert.equal(model?.arch, 'alexnet-v1');
    assert.equal(model?.numClasses, 10);
    v = (await hook()).version;
    await browser.page.click('img[data-sample=cat]');
    await nextVersion(v);
    const { last } = await hook();
    assert.ok(last && model);
    assert.deepEqual(last.shape, [3, model.inputSize, model.inputSize]);
    // The page's preprocessing is predict's: only the JPEG decoders differ (a grey level at most).
    const img = await decodeImageFile(join(root, 'data', 'samples', 'cat.jpg'), { channels: 3 });
    const ours = applyTransforms(evalTransforms(3, model.inputSize), img, new Generator(0));
    const nodeInput = (Array.isArray(ours) ? ours[0]! : ours).data;
    const inputDiff = Math.max(...nodeInput.map((x, i) => Math.abs(x - last.input[i]!)));
    assert.ok(inputDiff < 0.02, `the page's input differs from predict's by ${inputDiff}`);
    // The same input through the native backend (the reference one where the addon is not built).
    setBackend(native ?? 'reference');
    const m = modelFromWeights(readWeightsFile(weights), { source: weights, arch: 'alexnet-v1', inputSize: model.inputSize });
    const expected = noGrad(() => m.forward(Tensor.fromArray(last.input, [1, ...last.shape])).toArray());
    assert.equal(last.logits.length, 10);
    assert.ok(Math.max(...expected.map(Math.abs)) > 1e-3, 'logits too small to compare');
    const diff = Math.max(...expected.map((x, i) => Math.abs(x - last.logits[i]!)));
    assert.ok(diff <= 1e-4, `max |page − ${native ? 'native' : 'reference'}| = ${diff}`);
    t.diagnostic(
      `logits: max |page − ${native ? 'native' : 'reference'}| = ${diff.toExponential(2)}; input: max |page − predict| = ${inputDiff.toFixed(4)}`,
    );
    assert.equal(await browser.page.locator('#top5 tbody tr').count(), 5);
    assert.match(await browser.page.locator('#timing').innerText(), /cat\.jpg: \d+ ms/);
  });

  test('a feature-map view renders and is not blank', async () => {
    await browser.page.click('[data-tab=inside]');
    await browser.page.selectOption('#layer', { index: 0 });
    const name = await browser.page.locator('#layer option').first().innerText();
    assert.match(name, /^Conv2d-1 \[96×/);
    await browser.page.waitForFunction(() => document.querySelectorAll('#maps canvas').length === 96);
    const spread = await browser.page.evaluate(() => {
      const grey = [...document.querySelectorAll<HTMLCanvasElement>('#maps canvas')].map((c) => {
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let lo = 255;
        let hi = 0;
        for (let i = 0; i < d.length; i += 4) {
          lo = Math.min(lo, d[i]!);
          hi = Math.max(hi, d[i]!);
        }
        return hi - lo;
      });
      return grey.filter((s) => s > 100).length;
    });
    assert.ok(spread > 48, `only ${spread} of 96 channels show any contrast`);
    const filters = await browser.page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('#filters')!;
      return new Set(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).size;
    });
    assert.ok(filters > 100, "conv1's filter grid is blank");
    await browser.page.hover('#maps canvas >> nth=3');
    assert.match(await browser.page.locator('#hover').innerText(), /Conv2d-1 channel 3: values -?\d/);
  });

  test('weights of another architecture get a clear message and leave the model as it was', async () => {
    await browser.page.selectOption('#arch', 'alexnet-2012');
    await browser.page.setInputFiles('#weights-file', weights);
    await browser.page.waitForSelector('#message:not([hidden])');
    assert.equal(
      await message(),
      'v1-10.pth holds alexnet-v1 weights, not alexnet-2012: choose alexnet-v1 as the architecture and load it again',
    );
    assert.equal((await hook()).model?.source, 'v1-10.pth');
  });

  test('a file that is not an image gets a clear message', async () => {
    await browser.page.click('[data-tab=classify]');
    await browser.page.setInputFiles('#image-file', { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a picture') });
    await browser.page.waitForFunction(() => document.querySelector('#message')!.textContent!.includes('notes.jpg'));
    assert.equal(await message(), 'notes.jpg is not an image this browser can decode (JPEG, PNG, WebP, GIF or BMP)');
  });

  test('weights from a URL load, and a reload takes them from the Cache API', async () => {
    let served = 0;
    const bytes = readFileSync(weights);
    const other = createServer((_req, res) => {
      served++;
      res.writeHead(200, { 'access-control-allow-origin': '*', 'content-length': bytes.length });
      res.end(bytes);
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}/v1-10.pth`;
    try {
      await browser.page.selectOption('#arch', 'alexnet-v1');
      const v = (await hook()).version;
      await browser.page.fill('#weights-url', url);
      await browser.page.click('#load-url');
      await nextVersion(v);
      assert.equal((await hook()).model?.source, url);
      await browser.page.goto(`${server.url}?arch=alexnet-v1&weights=${encodeURIComponent(url)}&sample=coffee`);
      await browser.page.evaluate(() => (window as unknown as { __alexnet: { ready: Promise<void> } }).__alexnet.ready);
      const h = await hook();
      assert.equal(h.model?.source, url);
      assert.equal(h.last?.logits.length, 10);
      assert.equal(served, 1, 'the reload fetched the weights again');
    } finally {
      other.close();
    }
  });

  test('a browser without WebAssembly gets a notice', async () => {
    const page = await browser.context.newPage();
    try {
      await page.addInitScript(() => Reflect.deleteProperty(globalThis, 'WebAssembly'));
      await page.goto(server.url);
      assert.match(await page.locator('#notice').innerText(), /^This browser has no WebAssembly: /);
      assert.equal(await browser.page.locator('#notice').isHidden(), true);
    } finally {
      await page.close();
    }
  });

  test('the Train tab runs 20 steps and the loss falls; the downloaded .pth loads in the CLI', async () => {
    const page = browser.page;
    await page.click('[data-tab=train]');
    // Four images in batches of four: the same batch each step, which 20 steps learn.
    await page.fill('#train-steps', '20');
    await page.fill('#train-batch', '4');
    await page.fill('#train-subset', '4');
    await page.click('#train-start');
    await page.waitForFunction(() => document.querySelector('#train-status')!.textContent!.includes('done'), null, { timeout: 240_000 });
    const losses = (await hook()).train.map((p) => p.loss);
    assert.equal(losses.length, 20);
    assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(
      mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.05,
      `the loss did not fall: ${losses.map((l) => l.toFixed(3)).join(', ')}`,
    );
    assert.equal((await hook()).model?.inputSize, 65);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
    assert.equal(download.suggestedFilename(), 'alexnet-v1-fashion-mnist.pth');
    const file = join(dir, 'trained.pth');
    await download.saveAs(file);
    const tensors = readPth(file);
    assert.deepEqual(tensors.get('conv.0.weight')?.shape, [96, 1, 11, 11]);
    const cli = spawnSync(
      process.execPath,
      ['bin/alexnet.js', 'predict', join(root, 'data', 'samples', 'coffee.jpg'), '--weights', file, '--json', '--backend', 'reference'],
      { cwd: root, encoding: 'utf8' },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const out = JSON.parse(cli.stdout) as unknown;
    assert.ok(JSON.stringify(out).includes('probability'), cli.stdout);
    assert.deepEqual(browser.errors, []);
  });
});
