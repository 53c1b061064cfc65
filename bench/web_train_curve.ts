// Does training in the page follow the Node native backend's loss curve? Trains alexnet-v1 at
// 65×65 on the first Fashion-MNIST images in Chromium (the page's Train tab, on the backend of
// its engine worker — wasm where it loads — data from `alexnet web`) and in this process on the native backend with the
// same settings and seed (the page's own TrainSession), and prints both curves and their largest
// relative difference, which the issue wants within 2% over 50 steps (exit 1 when it is not).
//   node dist/bench/web_train_curve.js [--quick] [--steps 50] [--batch 8] [--subset 512] [--data DIR]
// --quick: 10 steps of batch 4 (a smoke run).
import { nativeBackend, setBackend } from '../src/backend/registry.js';
import { DEBIAN_FASHION_MNIST_DIR, readIdx } from '../src/data/idx.js';
import { join } from 'node:path';
import { PAGE_TRAIN_DEFAULTS, TrainSession, type TrainSettings } from '../src/web/engine/train_session.js';
import type { TrainProgress } from '../src/web/protocol.js';
import { ensureWebBundle, launchBrowser, startWebCli } from '../test/browser_helpers.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const quick = process.argv.includes('--quick');
const steps = flag('steps', quick ? 10 : 50);
const dataArg = process.argv.indexOf('--data');
const dataDir = dataArg >= 0 ? process.argv[dataArg + 1]! : DEBIAN_FASHION_MNIST_DIR;
const settings: TrainSettings = { ...PAGE_TRAIN_DEFAULTS, batchSize: flag('batch', quick ? 4 : 8), subset: flag('subset', 512), seed: 0 };

async function pageCurve(): Promise<{ backend: string; curve: TrainProgress[] }> {
  await ensureWebBundle();
  const server = await startWebCli(['--data', dataDir]);
  const browser = await launchBrowser();
  try {
    const page = browser.page;
    await page.goto(server.url);
    const backend = await page.evaluate(async () => {
      const hook = (window as unknown as { __alexnet: { ready: Promise<void>; backend: string } }).__alexnet;
      await hook.ready;
      return hook.backend;
    });
    await page.click('[data-tab=train]');
    await page.fill('#train-steps', String(steps));
    await page.fill('#train-batch', String(settings.batchSize));
    await page.fill('#train-subset', String(settings.subset));
    await page.fill('#train-lr', String(settings.lr));
    await page.fill('#train-seed', String(settings.seed));
    await page.click('#train-start');
    await page.waitForFunction(() => /done|stopped/.test(document.querySelector('#train-status')?.textContent ?? ''), null, { timeout: 0 });
    const message = await page.locator('#message').innerText();
    if (message) throw new Error(`the page says: ${message}`);
    const curve = await page.evaluate(() => (window as unknown as { __alexnet: { train: TrainProgress[] } }).__alexnet.train);
    return { backend, curve };
  } finally {
    // The server goes even when the browser has died (a crash would otherwise leave it running).
    await Promise.allSettled([browser.close(), server.stop()]);
  }
}

function nodeCurve(): { loss: number; ms: number }[] {
  const { backend, reason } = nativeBackend();
  if (!backend) throw new Error(`the native backend is needed here: ${reason}`);
  setBackend(backend);
  const images = readIdx(join(dataDir, 'train-images-idx3-ubyte.gz'));
  const labels = readIdx(join(dataDir, 'train-labels-idx1-ubyte.gz'));
  const session = new TrainSession(images.data as Uint8Array, labels.data as Uint8Array, settings);
  return Array.from({ length: steps }, () => {
    const t0 = performance.now();
    const { loss } = session.step();
    return { loss, ms: performance.now() - t0 };
  });
}

const t0 = performance.now();
const { backend: pageBackend, curve: page } = await pageCurve();
const pageS = (performance.now() - t0) / 1000;
const node = nodeCurve();
const rel = node.map((n, i) => Math.abs((page[i]?.loss ?? NaN) - n.loss) / Math.abs(n.loss));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
console.log(
  `alexnet-v1 65×65, ${steps} steps, batch ${settings.batchSize}, first ${settings.subset} images, lr ${settings.lr}, seed ${settings.seed}`,
);
console.log('step  page loss  native loss  rel. diff');
for (let i = 0; i < steps; i++) {
  if (i < 3 || (i + 1) % 10 === 0 || i === steps - 1)
    console.log(
      `${String(i + 1).padStart(4)}  ${page[i]?.loss.toFixed(5)}    ${node[i]!.loss.toFixed(5)}      ${(100 * rel[i]!).toFixed(3)} %`,
    );
}
const worst = Math.max(...rel);
console.log(
  `largest relative difference ${(100 * worst).toFixed(3)} % (mean ${((100 * rel.reduce((a, b) => a + b, 0)) / steps).toFixed(3)} %)`,
);
console.log(
  `ms per step: page (${pageBackend} backend in Chromium) ${median(page.map((p) => p.ms)).toFixed(0)}, native ${median(node.map((n) => n.ms)).toFixed(0)} (medians); page run ${pageS.toFixed(0)} s`,
);
console.log(worst <= 0.02 ? 'within 2%: yes' : 'within 2%: NO');
process.exitCode = worst <= 0.02 && page.length === steps ? 0 : 1;
