// DataLoader and datasets: ImageFolder listing, the broken-input policy (skip + log + summary,
// strict stops at the first with its path), determinism across worker counts and resumes,
// clean shutdown (child processes with timeouts), IDX / npy / prepared datasets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DataError } from '../src/errors.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { Generator } from '../src/random.js';
import {
  applyTransforms,
  ArrayDataset,
  BrokenInputLog,
  computeMeanImage,
  computeRgbPca,
  DataLoader,
  decodeImageFile,
  IdxDataset,
  ImageFolder,
  loadMeanImage,
  NpyDataset,
  parseIdx,
  PreparedDataset,
  prepareDataset,
  saveMeanImage,
  T,
  torchvisionPreset,
  DEBIAN_FASHION_MNIST_DIR,
  type Batch,
  type U8Image,
} from '../src/data/index.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FIX = join(HERE, '..', '..', 'test', 'fixtures', 'data');
const DIST = join(HERE, '..', 'src', 'data', 'index.js');

const UNUSUAL = [
  'cmyk.jpg',
  'rgb16.png',
  'rgba.png',
  'gray_alpha.png',
  'gray.jpg',
  'gray.png',
  'palette.png',
  'exif_rotated.jpg',
  'photo.webp',
];
const BROKEN = ['truncated.jpg', 'corrupt.jpg', 'empty.jpg', 'not_an_image.png', 'bomb.png'];

/** root/{a_valid: unusual images, b_mixed: photos + broken + unreadable, c_empty: nothing, d_nested/x/y: one} */
function makeFolder(): string {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-data-'));
  const dirs = ['a_valid', 'b_mixed', 'c_empty', join('d_nested', 'x', 'y')];
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  for (const f of UNUSUAL) copyFileSync(join(FIX, 'unusual', f), join(root, 'a_valid', f));
  for (const f of BROKEN) copyFileSync(join(FIX, 'broken', f), join(root, 'b_mixed', f));
  copyFileSync(join(FIX, 'photos', 'street.jpg'), join(root, 'b_mixed', 'street.JPG'));
  copyFileSync(join(FIX, 'photos', 'small.webp'), join(root, 'b_mixed', 'small.webp'));
  symlinkSync(join(root, 'no-such-file.jpg'), join(root, 'b_mixed', 'unreadable.jpg'));
  writeFileSync(join(root, 'b_mixed', 'notes.txt'), 'not listed: wrong extension');
  copyFileSync(join(FIX, 'unusual', 'gray.png'), join(root, 'd_nested', 'x', 'y', 'deep.png'));
  return root;
}

const EVAL_64 = [T.resize(72), T.centerCrop(64), T.toTensor()];

async function collect(loader: DataLoader, epoch: number, start = 0, release = false): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader.iterate(epoch, start)) {
    if (release) {
      // Keep a copy and hand the buffer back: the next batches are written into it.
      out.push({ ...b, x: b.x.slice() });
      b.release();
    } else {
      out.push(b);
    }
  }
  return out;
}

test('ImageFolder lists classes sorted, files recursively with torchvision extensions', () => {
  const root = makeFolder();
  try {
    const lines: string[] = [];
    const broken = new BrokenInputLog({ log: (l) => lines.push(l) });
    const ds = ImageFolder.open(root, { broken });
    assert.deepEqual(ds.classes, ['a_valid', 'b_mixed', 'c_empty', 'd_nested']);
    assert.deepEqual(ds.classToIdx, { a_valid: 0, b_mixed: 1, c_empty: 2, d_nested: 3 });
    assert.equal(ds.length, UNUSUAL.length + BROKEN.length + 3 + 1);
    assert.ok(!ds.files.some((f) => f.endsWith('.txt')));
    assert.ok(
      ds.files.some((f) => f.endsWith('street.JPG')),
      'upper-case extension listed',
    );
    assert.equal(ds.label(ds.length - 1), 3);
    assert.deepEqual(ds.emptyClasses, ['c_empty']);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /c_empty.*empty-class/);
    assert.throws(
      () => ImageFolder.open(root, { broken: new BrokenInputLog({ strict: true }) }),
      (e: unknown) => e instanceof DataError && /c_empty/.test(e.message),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

for (const workers of [0, 2]) {
  test(`broken files are skipped, counted and named; valid ones all used (workers ${workers})`, async () => {
    const root = makeFolder();
    try {
      const lines: string[] = [];
      const broken = new BrokenInputLog({ log: (l) => lines.push(l) });
      const ds = ImageFolder.open(root, { broken });
      const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 3, workers, transforms: EVAL_64, broken });
      for (let epoch = 0; epoch < 2; epoch++) {
        const batches = await collect(loader, epoch);
        const seen = batches.flatMap((b) => [...b.indices].map((i) => ds.sourceOf(i)));
        assert.equal(seen.length, ds.length - BROKEN.length - 1);
        assert.equal(new Set(seen).size, seen.length);
        for (const b of batches) {
          assert.deepEqual(b.shape, [b.y.length, 3, 64, 64]);
          assert.equal(b.x.length, b.y.length * 3 * 64 * 64);
          b.indices.forEach((idx, k) => assert.equal(b.y[k], ds.label(idx)));
        }
        // Skips are reported on the next delivered batch; a trailing all-broken batch has no next one.
        const reported = batches.reduce((a, b) => a + b.skipped, 0);
        assert.ok(reported >= 1 && reported <= BROKEN.length + 1, `skipped reported ${reported}`);
      }
      await loader.close();
      assert.equal(broken.count, BROKEN.length + 2, 'each broken input logged once (plus the empty class)');
      for (const f of [...BROKEN, 'unreadable.jpg'])
        assert.ok(
          lines.some((l) => l.includes(f)),
          `${f} named in the log`,
        );
      const summary = broken.summary();
      assert.match(summary, /^skipped 7 broken inputs \(/);
      for (const kind of ['corrupt', 'empty', 'not-an-image', 'too-large', 'unreadable', 'empty-class'])
        assert.ok(summary.includes(kind), `${kind} in ${summary}`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

test('strict mode stops at the first broken file with its path and stops the workers', async () => {
  const root = makeFolder();
  try {
    rmSync(join(root, 'c_empty'), { recursive: true });
    const ds = ImageFolder.open(root, { broken: new BrokenInputLog({ strict: true }) });
    const loader = new DataLoader(ds, { batchSize: 4, workers: 2, strict: true, transforms: EVAL_64 });
    const firstBroken = ds.files.find((f) => /b_mixed\/(bomb|corrupt|empty|not_an|truncated|unreadable)/.test(f));
    await assert.rejects(collect(loader, 0), (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.ok(firstBroken && e.message.includes(firstBroken), `${e.message} should name ${firstBroken}`);
      assert.match(e.message, /strict/);
      return true;
    });
    await loader.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('same seed: same order and augmentations for any worker count; resume is exact', async () => {
  const root = makeFolder();
  try {
    const ds = ImageFolder.open(root, { broken: new BrokenInputLog({ log: () => undefined }) });
    const transforms = [T.resize(48), T.randomResizedCrop(32), T.randomHorizontalFlip(), T.toTensor(), T.normalize()];
    const run = async (workers: number, prefetch: number, seed: number, epoch: number, start = 0): Promise<Batch[]> => {
      const loader = new DataLoader(ds, {
        batchSize: 3,
        shuffle: true,
        seed,
        workers,
        prefetch,
        transforms,
        broken: new BrokenInputLog({ log: () => undefined }),
      });
      try {
        // Recycle buffers in the multi-worker runs: results must not change.
        return await collect(loader, epoch, start, workers > 0);
      } finally {
        await loader.close();
      }
    };
    const a = await run(0, 1, 11, 4);
    const b = await run(2, 3, 11, 4);
    assert.deepEqual(
      b.map((x) => [...x.indices]),
      a.map((x) => [...x.indices]),
    );
    a.forEach((batch, i) => assert.deepEqual(b[i]!.x, batch.x, `batch ${i} pixels`));
    const otherEpoch = await run(0, 2, 11, 5);
    assert.notDeepEqual(
      otherEpoch.map((x) => [...x.indices]),
      a.map((x) => [...x.indices]),
    );
    const otherSeed = await run(0, 2, 12, 4);
    assert.notDeepEqual(
      otherSeed.map((x) => [...x.indices]),
      a.map((x) => [...x.indices]),
    );
    // Resume: stop after 2 batches, read the state, continue from it.
    const loader = new DataLoader(ds, {
      batchSize: 3,
      shuffle: true,
      seed: 11,
      workers: 1,
      transforms,
      broken: new BrokenInputLog({ log: () => undefined }),
    });
    let n = 0;
    for await (const _ of loader.iterate(4)) if (++n === 2) break;
    const state = loader.state();
    await loader.close();
    const rest = await run(2, 2, 11, state.epoch, state.batch);
    const full = a.filter((x) => x.batch >= state.batch);
    assert.deepEqual(
      rest.map((x) => x.batch),
      full.map((x) => x.batch),
    );
    rest.forEach((batch, i) => assert.deepEqual(batch.x, full[i]!.x));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('dropLast and numBatches', async () => {
  const x = new Uint8Array(10 * 4 * 4);
  const y = Int32Array.from({ length: 10 }, (_, i) => i % 3);
  writeNpyPair(x, [10, 4, 4], y, async (ds) => {
    const keep = new DataLoader(ds, { batchSize: 4, transforms: [T.toTensor()] });
    const drop = new DataLoader(ds, { batchSize: 4, dropLast: true, transforms: [T.toTensor()] });
    assert.equal(keep.numBatches, 3);
    assert.equal(drop.numBatches, 2);
    assert.deepEqual(
      (await collect(keep, 0)).map((b) => b.y.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      (await collect(drop, 0)).map((b) => b.y.length),
      [4, 4],
    );
    assert.deepEqual(keep.state(), { epoch: 1, batch: 0 });
  });
});

async function writeNpyPair(x: Uint8Array, shape: number[], y: Int32Array, body: (ds: NpyDataset) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-npy-'));
  try {
    writeNpy(join(dir, 'x.npy'), x, shape);
    writeNpy(join(dir, 'y.npy'), y, [y.length]);
    await body(new NpyDataset(join(dir, 'x.npy'), join(dir, 'y.npy')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('NpyDataset: uint8 NHW images through workers', async () => {
  const x = new Uint8Array(6 * 5 * 5);
  for (let i = 0; i < x.length; i++) x[i] = (i * 7) % 256;
  await writeNpyPair(x, [6, 5, 5], Int32Array.from([0, 1, 2, 0, 1, 2]), async (ds) => {
    assert.deepEqual(ds.classes, ['0', '1', '2']);
    const loader = new DataLoader(ds, { batchSize: 6, workers: 1, transforms: [T.toTensor()] });
    const [b] = await collect(loader, 0);
    assert.ok(b);
    await loader.close();
    assert.deepEqual(b.shape, [6, 1, 5, 5]);
    assert.ok(Math.abs(b.x[26]! - x[26]! / 255) < 1e-7);
    assert.deepEqual([...b.y], [0, 1, 2, 0, 1, 2]);
  });
});

test('IDX: Fashion-MNIST from Debian (gzipped) and a plain IDX file', async (t) => {
  const header = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const plain = parseIdx(header, 'mem');
  assert.deepEqual(plain.shape, [2, 2, 3]);
  assert.equal(plain.data[11], 12);
  assert.throws(() => parseIdx(header.subarray(0, 20), 'short.idx'), /short\.idx.*needs 12 data bytes/);
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-idx-'));
  try {
    writeFileSync(join(dir, 'img.gz'), gzipSync(header));
    writeFileSync(join(dir, 'lab'), Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 4, 1]));
    const ds = new IdxDataset(join(dir, 'img.gz'), join(dir, 'lab'));
    assert.equal(ds.length, 2);
    assert.deepEqual([...(ds.load(1) as U8Image).data], [7, 8, 9, 10, 11, 12]);
    assert.equal(ds.label(0), 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  let test10k: IdxDataset;
  try {
    test10k = IdxDataset.fashionMnist('test');
  } catch {
    t.skip(`dataset-fashion-mnist not installed in ${DEBIAN_FASHION_MNIST_DIR}`);
    return;
  }
  assert.equal(test10k.length, 10000);
  assert.equal(test10k.classes[test10k.label(0)], 'Ankle boot');
  const counts = new Array(10).fill(0);
  for (let i = 0; i < test10k.length; i++) counts[test10k.label(i)]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
  const loader = new DataLoader(test10k, { batchSize: 256, shuffle: true, seed: 1, transforms: [T.grayscale(3), T.toTensor()] });
  const first = (await loader.iterate(0).next()).value as Batch;
  assert.deepEqual(first.shape, [256, 3, 28, 28]);
});

test('prepare → PreparedDataset holds resize+center-crop bytes; mean image saved and reused', async () => {
  const root = makeFolder();
  const out = join(root, 'prepared.bin');
  try {
    const lines: string[] = [];
    const report = await prepareDataset(root, { out, size: 40, workers: 2, log: (l) => lines.push(l) });
    assert.equal(report.header.count, UNUSUAL.length + 3);
    assert.equal(report.broken.count, BROKEN.length + 2);
    const ds = new PreparedDataset(out);
    assert.deepEqual(ds.classes, ['a_valid', 'b_mixed', 'c_empty', 'd_nested']);
    const folder = ImageFolder.open(root, { broken: new BrokenInputLog({ log: () => undefined }) });
    const street = folder.files.findIndex((f) => f.endsWith('street.JPG'));
    const k = report.header.count - 2; // street.JPG and small.webp follow a_valid and the broken files (sorted)
    const expected = applyTransforms(
      [T.resize(40), T.centerCrop(40)],
      await decodeImageFile(folder.files[street]!),
      new Generator(0),
    ) as U8Image;
    const kStreet = [k - 1, k].find((i) => ds.label(i) === 1 && (ds.load(i) as U8Image).data.every((v, j) => v === expected.data[j]));
    assert.ok(kStreet !== undefined, 'street.JPG stored as its resized center crop');
    const loader = new DataLoader(ds, {
      batchSize: 5,
      workers: 2,
      shuffle: true,
      transforms: [T.randomCrop(32), T.randomHorizontalFlip(), T.toTensor()],
    });
    const batches = await collect(loader, 0);
    await loader.close();
    assert.equal(
      batches.reduce((a, b) => a + b.y.length, 0),
      ds.length,
    );
    assert.deepEqual(batches[0]!.shape, [5, 3, 32, 32]);
    const mean = await computeMeanImage(ds, { transforms: [T.toTensor()] });
    assert.deepEqual(mean.shape, [3, 40, 40]);
    saveMeanImage(join(root, 'mean.npy'), mean);
    assert.deepEqual(loadMeanImage(join(root, 'mean.npy')).data, mean.data);
    ds.close();
    assert.throws(() => new PreparedDataset(join(FIX, 'broken', 'not_an_image.png')), /not a prepared dataset/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** Runs `code` (an ES module) in a child node process; resolves with its exit code, stderr and time. */
function runChild(
  code: string,
  timeoutMs: number,
  env: Record<string, string> = {},
  signalAfterMs?: number,
): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (signalAfterMs !== undefined && stdout.includes('started')) setTimeout(() => child.kill('SIGINT'), signalAfterMs);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - start });
    });
  });
}

function childScript(root: string, body: string): string {
  return `
import { ImageFolder, DataLoader, BrokenInputLog, T } from ${JSON.stringify(DIST)};
const broken = new BrokenInputLog({ log: () => {} });
const ds = ImageFolder.open(${JSON.stringify(root)}, { broken });
const transforms = [T.resize(72), T.centerCrop(64), T.toTensor()];
${body}`;
}

test('no hang: leaving an epoch early without close(), Ctrl-C, a strict error, a dead worker', async () => {
  const root = makeFolder();
  try {
    // 1. break out mid-epoch and never call close(): the process must still exit by itself.
    const early = await runChild(
      childScript(
        root,
        `
const loader = new DataLoader(ds, { batchSize: 2, workers: 2, prefetch: 4, transforms, broken });
for await (const b of loader.iterate(0)) break;
console.log('done');`,
      ),
      20000,
    );
    assert.equal(early.code, 0, `exit ${early.code}/${early.signal}: ${early.stderr}`);
    // 2. SIGINT while iterating forever.
    const sigint = await runChild(
      childScript(
        root,
        `
const loader = new DataLoader(ds, { batchSize: 2, workers: 2, transforms, broken });
console.log('started');
for (let e = 0; ; e++) for await (const b of loader.iterate(e)) {}`,
      ),
      20000,
      {},
      300,
    );
    assert.ok(sigint.signal === 'SIGINT' || sigint.code === 130, `exit ${sigint.code}/${sigint.signal}: ${sigint.stderr}`);
    // 3. strict: an uncaught DataError naming the file; the process exits non-zero.
    const strict = await runChild(
      childScript(
        root,
        `
const loader = new DataLoader(ds, { batchSize: 2, workers: 2, strict: true, transforms });
for await (const b of loader.iterate(0)) {}`,
      ),
      20000,
    );
    assert.notEqual(strict.code, 0);
    assert.match(strict.stderr, /DataError.*b_mixed\/\S+\.(jpg|png).*strict/);
    // 4. a worker dies on a file: the error names it, no hang.
    const dead = await runChild(
      childScript(
        root,
        `
const loader = new DataLoader(ds, { batchSize: 2, workers: 2, transforms, broken });
try { for await (const b of loader.iterate(0)) {} } catch (e) { console.error('caught: ' + e.message); process.exitCode = 3; }`,
      ),
      20000,
      { ALEXNET_DATA_TEST_CRASH_ON: 'palette.png' },
    );
    assert.equal(dead.code, 3, dead.stderr);
    assert.match(dead.stderr, /caught: data worker \d died \(exited with code 70\) while loading \S+a_valid\/palette\.png/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('torchvision train preset through 2 workers gives normalized 224 crops', async () => {
  const root = makeFolder();
  try {
    const ds = ImageFolder.open(root, { broken: new BrokenInputLog({ log: () => undefined }) });
    const loader = new DataLoader(ds, {
      batchSize: 8,
      workers: 2,
      shuffle: true,
      seed: 1,
      transforms: torchvisionPreset('train'),
      broken: new BrokenInputLog({ log: () => undefined }),
    });
    const [b] = await collect(loader, 0);
    assert.ok(b);
    await loader.close();
    assert.deepEqual(b.shape.slice(1), [3, 224, 224]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of b.x) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.ok(min >= -2.2 && max <= 2.7 && max - min > 1, `range ${min}..${max}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('RandomResizedCrop through the decoder (libvips) takes the same boxes as the Pillow path', async () => {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-rrc-'));
  try {
    for (const cls of ['p', 'q']) {
      mkdirSync(join(root, cls));
      for (const f of ['street.jpg', 'portrait.png', 'wide.jpg', 'small.webp']) copyFileSync(join(FIX, 'photos', f), join(root, cls, f));
    }
    const ds = ImageFolder.open(root);
    const run = async (resampler: 'pillow' | 'libvips', workers: number): Promise<Batch[]> => {
      const transforms = [T.randomResizedCrop(112, [0.08, 1], [3 / 4, 4 / 3], resampler), T.toTensor()];
      const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5, workers, transforms });
      try {
        return await collect(loader, 2);
      } finally {
        await loader.close();
      }
    };
    const pil = await run('pillow', 0);
    const vips = await run('libvips', 0);
    const vips2 = await run('libvips', 2);
    vips.forEach((b, i) => assert.deepEqual(vips2[i]!.x, b.x, 'libvips path independent of workers'));
    let sum = 0;
    let count = 0;
    pil.forEach((b, i) => {
      for (let k = 0; k < b.x.length; k++) sum += Math.abs(b.x[k]! - vips[i]!.x[k]!);
      count += b.x.length;
    });
    // Same boxes, slightly different resampling (about 0.2 grey levels when shrinking, 1.5 when
    // enlarging); a different box would be off by tens of levels.
    const levels = (sum / count) * 255;
    assert.ok(levels < 2, `mean abs difference ${levels} grey levels`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('aborting stops the workers and rejects the running iteration', async () => {
  const root = makeFolder();
  try {
    const quiet = new BrokenInputLog({ log: () => undefined });
    const ds = ImageFolder.open(root, { broken: quiet });
    const controller = new AbortController();
    const loader = new DataLoader(ds, { batchSize: 2, workers: 2, transforms: EVAL_64, broken: quiet, signal: controller.signal });
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of loader.iterate(0)) if (++seen === 1) controller.abort();
      })(),
      (e: unknown) => e instanceof DataError && /aborted/.test(e.message),
    );
    assert.equal(seen, 1);
    await assert.rejects(loader.iterate(1).next(), /aborted/);
    await loader.close();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('computeRgbPca finds the direction colours vary along; computeMeanImage the per-pixel mean', async () => {
  const n = 40;
  const H = 6;
  const W = 5;
  const x = new Float32Array(n * 3 * H * W);
  const g = new Generator(9);
  const d = [0.8, 0.36, 0.48]; // unit vector
  for (let k = 0; k < n; k++) {
    for (let p = 0; p < H * W; p++) {
      const t = g.uniform() - 0.5; // variance 1/12
      for (let c = 0; c < 3; c++) x[(k * 3 + c) * H * W + p] = 0.5 + t * d[c]!;
    }
  }
  const ds = new ArrayDataset({ x, shape: [n, 3, H, W], y: new Int32Array(n) });
  const pca = await computeRgbPca(ds, { transforms: [], stride: 1 });
  assert.ok(Math.abs(pca.eigval[0]! - 1 / 12) < 0.01, `eigval ${pca.eigval}`);
  assert.ok(pca.eigval[1]! < 1e-6 && pca.eigval[2]! < 1e-6, `eigval ${pca.eigval}`);
  const dot = d.reduce((a, v, c) => a + v * pca.eigvec[c]![0]!, 0);
  assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-6, `eigvec ${pca.eigvec.map((r) => r[0])}`);
  const mean = await computeMeanImage(ds, { transforms: [] });
  assert.deepEqual(mean.shape, [3, H, W]);
  for (let c = 0; c < 3; c++) {
    let want = 0;
    for (let k = 0; k < n; k++) want += x[(k * 3 + c) * H * W + 7]!;
    assert.ok(Math.abs(mean.data[c * H * W + 7]! - want / n) < 1e-6);
  }
});

test('Resize through the decoder (libvips) still meets the 0.02 torchvision bound on photos', async () => {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-vips-resize-'));
  try {
    mkdirSync(join(root, 'all'));
    const names = ['portrait.png', 'small.webp', 'street.jpg', 'wide.jpg']; // sorted, as listed
    for (const f of names) copyFileSync(join(FIX, 'photos', f), join(root, 'all', f));
    const ds = ImageFolder.open(root);
    const transforms = [T.resize(256, 'libvips'), T.centerCrop(224), T.toTensor(), T.normalize()];
    const loader = new DataLoader(ds, { batchSize: 4, workers: 0, transforms });
    const [b] = await collect(loader, 0);
    assert.ok(b);
    await loader.close();
    const M = [0.485, 0.456, 0.406];
    const S = [0.229, 0.224, 0.225];
    const plane = 224 * 224;
    names.forEach((name, k) => {
      const ref = readNpy(join(FIX, 'photos', `${name}.eval.npy`)).data as Uint8Array;
      let sum = 0;
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < plane; p++) sum += Math.abs(b.x[(k * 3 + c) * plane + p]! - (ref[p * 3 + c]! / 255 - M[c]!) / S[c]!);
      }
      const mean = sum / (3 * plane);
      assert.ok(mean <= 0.02, `${name}: mean abs diff ${mean}`);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
