// IDX files that lie: a small gzip inflating to gigabytes is stopped at the size its header
// implies (bounded memory, an error naming the file), a header claiming terabytes is refused
// before inflating anything, and 0×0 images (IDX or .npy) are refused when the dataset is opened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { DataError } from '../src/errors.js';
import { IdxDataset, NpyDataset, readIdx } from '../src/data/index.js';
import { encodeNpy } from '../src/io/npy.js';

const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..');

function idxHeader(type: number, dims: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return head;
}

/** A gzip of `header` followed by `zeros` zero bytes, written as a stream (never all in memory). */
async function gzipBomb(file: string, header: Buffer, zeros: number): Promise<void> {
  const gz = createGzip({ level: 1 });
  const done = new Promise<void>((resolve, reject) => {
    gz.pipe(createWriteStream(file)).on('finish', resolve).on('error', reject);
  });
  gz.write(header);
  const chunk = Buffer.alloc(1 << 20);
  for (let left = zeros; left > 0; left -= chunk.length) {
    if (!gz.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await done;
}

test('a gzip bomb (an IDX header for 7840 bytes, then 1 GiB of zeros) stops at the header’s size, in bounded memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-idx-bomb-'));
  try {
    const file = join(dir, 'bomb-images-idx3-ubyte.gz');
    await gzipBomb(file, idxHeader(8, [10, 28, 28]), 2 ** 30);
    // In a child, so that its peak RSS is this read's alone.
    const script = `
      import { readIdx } from ${JSON.stringify(join(DIST, 'src', 'data', 'idx.js'))};
      const before = process.memoryUsage().rss;
      let message = 'no error';
      try { readIdx(${JSON.stringify(file)}); } catch (e) { message = e.name + ': ' + e.message; }
      console.log(JSON.stringify({ message, growthMB: (process.resourceUsage().maxRSS * 1024 - before) / 2 ** 20 }));
    `;
    const start = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { message: string; growthMB: number };
    assert.match(got.message, /^DataError: \S*bomb-images-idx3-ubyte\.gz: IDX shape \[10, 28, 28\] needs 7840 data bytes, file has more/);
    assert.ok(got.growthMB < 64, `peak RSS grew by ${got.growthMB.toFixed(0)} MB`);
    assert.ok(Date.now() - start < 20000, `took ${Date.now() - start} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an IDX header claiming terabytes is refused before inflating (gzipped or not)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-idx-claim-'));
  try {
    const gz = join(dir, 'claim.gz');
    writeFileSync(gz, gzipSync(Buffer.concat([idxHeader(8, [1_000_000, 1000, 1000]), Buffer.alloc(1000)])));
    assert.throws(
      () => readIdx(gz),
      (e: unknown) =>
        e instanceof DataError &&
        /claim\.gz: IDX shape \[1000000, 1000, 1000\] needs 1000000000000 data bytes, over the limit/.test(e.message),
    );
    const raw = join(dir, 'claim.idx');
    writeFileSync(raw, Buffer.concat([idxHeader(8, [4, 4]), Buffer.alloc(17)]));
    assert.throws(() => readIdx(raw), /claim\.idx: IDX shape \[4, 4\] needs 16 data bytes, file has 17/);
    assert.throws(() => readIdx(raw, { maxBytes: 8 }), /claim\.idx: .*over the limit of 8/);
    const cut = join(dir, 'cut.gz');
    writeFileSync(cut, gzipSync(Buffer.concat([idxHeader(8, [4, 4]), Buffer.alloc(16)])).subarray(0, 25));
    assert.throws(
      () => readIdx(cut),
      (e: unknown) => e instanceof DataError && /cut\.gz: /.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('0×0 IDX images are refused when the dataset is opened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-idx-empty-'));
  try {
    const images = join(dir, 'images.gz');
    const labels = join(dir, 'labels.gz');
    writeFileSync(images, gzipSync(idxHeader(8, [3, 0, 0])));
    writeFileSync(labels, gzipSync(Buffer.concat([idxHeader(8, [3]), Buffer.from([0, 1, 2])])));
    assert.throws(
      () => new IdxDataset(images, labels),
      (e: unknown) => e instanceof DataError && /images\.gz: images of 0x0x1 hold no pixels/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('.npy images with no pixels (N, 0, 0) are refused when the dataset is opened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-npy-empty-'));
  try {
    writeFileSync(join(dir, 'x.npy'), encodeNpy(new Uint8Array(0), [2, 0, 0]));
    writeFileSync(join(dir, 'y.npy'), encodeNpy(new Int32Array([0, 1]), [2]));
    assert.throws(
      () => new NpyDataset(join(dir, 'x.npy'), join(dir, 'y.npy')),
      (e: unknown) => e instanceof DataError && /x\.npy: images of shape \[2, 0, 0\] hold no pixels/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
