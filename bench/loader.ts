// Loader throughput: images/s of 224×224 training crops (a) decoded from 500×375 JPEG files
// (RandomResizedCrop + flip + normalize, torchvision's train preset) and (b) read from a
// prepared 256×256 file (the prepared images repeated 8 times) (random crop + flip + normalize). The JPEGs are generated scenes
// (gradients, shapes, noise) written by sharp at quality 90 into a temporary folder.
//
//   node dist/bench/loader.js [--images 256] [--workers 2] [--batch 64] [--epochs 2]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  BrokenInputLog,
  DataLoader,
  ImageFolder,
  PreparedDataset,
  PreparedWriter,
  prepareDataset,
  T,
  torchvisionPreset,
  type Dataset,
  type TransformSpec,
  type U8Image,
} from '../src/data/index.js';
import { Generator } from '../src/random.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A 500×375 "photo": two-colour gradient, a few rectangles, pixel noise. */
function scene(g: Generator, w = 500, h = 375): Buffer {
  const px = Buffer.alloc(w * h * 3);
  const c0 = [g.int(256), g.int(256), g.int(256)];
  const c1 = [g.int(256), g.int(256), g.int(256)];
  const rects = Array.from(
    { length: 6 },
    () => [g.int(w), g.int(h), 20 + g.int(200), 20 + g.int(150), g.int(256), g.int(256), g.int(256)] as const,
  );
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = y / h;
      const o = (y * w + x) * 3;
      let rgb = [0, 1, 2].map((c) => c0[c]! * (1 - t) + c1[c]! * t + 30 * Math.sin(x / 17 + c));
      for (const [rx, ry, rw, rh, r, gg, b] of rects) if (x >= rx && x < rx + rw && y >= ry && y < ry + rh) rgb = [r, gg, b];
      for (let c = 0; c < 3; c++) px[o + c] = Math.max(0, Math.min(255, rgb[c]! + (g.uniform() - 0.5) * 24));
    }
  }
  return px;
}

interface Rate {
  /** Images per second of wall time. */
  rate: number;
  /** CPU milliseconds per image, all threads of the process (workers, libvips, main). */
  cpuMs: number;
}

async function throughput(
  dataset: Dataset,
  transforms: TransformSpec[],
  workers: number,
  batchSize: number,
  epochs: number,
): Promise<Rate> {
  const loader = new DataLoader(dataset, { batchSize, shuffle: true, seed: 1, workers, transforms, broken: new BrokenInputLog() });
  // Warm-up: one whole epoch starts the workers and fills the page cache (breaking out of it
  // early would leave its prefetched batches running into the timed part).
  for await (const b of loader.iterate(0)) b.release();
  let images = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let e = 1; e <= epochs; e++) {
    for await (const b of loader.iterate(e)) {
      images += b.y.length;
      b.release(); // a trainer releases after copying x into its input tensor
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  await loader.close();
  return { rate: images / seconds, cpuMs: (used.user + used.system) / 1000 / images };
}

async function main(): Promise<void> {
  const count = arg('images', 256);
  const workers = arg('workers', 2);
  const batch = arg('batch', 64);
  const epochs = arg('epochs', 2);
  const root = mkdtempSync(join(tmpdir(), 'alexnet-bench-loader-'));
  try {
    const g = new Generator(7);
    for (let c = 0; c < 2; c++) mkdirSync(join(root, `class${c}`));
    for (let i = 0; i < count; i++) {
      await sharp(scene(g), { raw: { width: 500, height: 375, channels: 3 } })
        .jpeg({ quality: 90 })
        .toFile(join(root, `class${i % 2}`, `img${i}.jpg`));
    }
    const folder = ImageFolder.open(root);
    const jpegRate = await throughput(folder, torchvisionPreset('train'), workers, batch, epochs);
    const evalRate = await throughput(folder, torchvisionPreset('eval'), workers, batch, 1);
    const file = join(root, 'prepared.bin');
    const prepVips = await prepareDataset(root, { out: file, size: 256, workers, resampler: 'libvips' });
    const prep = await prepareDataset(root, { out: file, size: 256, workers });
    // Epochs of a few batches would measure the start and drain of each epoch: repeat the
    // prepared images into a larger file (same pixels, 8 times).
    const small = new PreparedDataset(file);
    const bigFile = join(root, 'prepared-x8.bin');
    const writer = new PreparedWriter(bigFile, { height: 256, width: 256, channels: 3 });
    for (let r = 0; r < 8; r++) {
      for (let i = 0; i < small.length; i++) writer.append((small.load(i) as U8Image).data, [small.label(i)]);
    }
    writer.finish({ classes: small.classes.slice(), source: root, skipped: [] });
    small.close();
    const prepared = new PreparedDataset(bigFile);
    const crops = [T.randomCrop(224), T.randomHorizontalFlip(), T.toTensor(), T.normalize()];
    const preparedRate = await throughput(prepared, crops, workers, batch, epochs);
    prepared.close();
    const prepRate: Rate = { rate: prep.header.count / prep.seconds, cpuMs: Number.NaN };
    const rows: [string, Rate][] = [
      ['JPEG 500x375 → RandomResizedCrop 224 + flip + normalize', jpegRate],
      ['JPEG 500x375 → resize 256 + center crop 224 + normalize', evalRate],
      ['prepare (decode + resize 256 + center crop, write)', prepRate],
      ['prepare --resampler libvips', { rate: prepVips.header.count / prepVips.seconds, cpuMs: Number.NaN }],
      [`prepared 256x256 (${prepared.length}) → random crop 224 + flip + normalize`, preparedRate],
    ];
    const cores = Math.min(workers, availableParallelism());
    console.log(
      `loader throughput, ${count} images, ${workers} workers, batch ${batch} (load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores)`,
    );
    console.log(`  ${'pipeline'.padEnd(62)} ${'images/s'.padStart(9)} ${'cpu ms/img'.padStart(11)} ${`÷${cores} cores`.padStart(11)}`);
    for (const [name, r] of rows) {
      const bound = Number.isFinite(r.cpuMs) ? (cores * 1000) / r.cpuMs : Number.NaN;
      console.log(
        `  ${name.padEnd(62)} ${r.rate.toFixed(0).padStart(9)} ${Number.isFinite(r.cpuMs) ? r.cpuMs.toFixed(2).padStart(11) : '-'.padStart(11)} ${Number.isFinite(bound) ? bound.toFixed(0).padStart(11) : '-'.padStart(11)}`,
      );
    }
    console.log(`  (÷${cores} cores: the rate ${cores} otherwise idle cores would give at the measured CPU cost per image)`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
