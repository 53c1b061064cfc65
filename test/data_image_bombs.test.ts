// Images whose header promises far more than their bytes (or than any sane resize): a JPEG
// claiming 13000×13000 is refused from its header against the pixel limit; a 9000×9000 JPEG
// headed for 256×256 is shrunk while decoding, in bounded memory; a 1×65500 strip that Resize(256)
// would blow up to 256×16768000 is a clear error, never a RangeError or gigabytes of memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/errors.js';
import { applyTransforms, BadImageError, decodeImage, dctShrink, DEFAULT_MAX_PIXELS, T, u8Image } from '../src/data/index.js';
import { imageAddon } from '../src/data/native_image.js';
import { Generator } from '../src/random.js';

const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..');

/**
 * A valid baseline JPEG of uniform grey, any size, in about 2 bits per 8×8 block: three
 * components, one-symbol Huffman tables (DC difference 0, then end-of-block), so the entropy-coded
 * data is all zero bytes. A real image of 13000×13000 in 4 MB.
 */
export function uniformJpeg(width: number, height: number): Buffer {
  const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const oneSymbolTable = (tableClass: number): number[] => [tableClass << 4, 1, ...new Array<number>(15).fill(0), 0];
  const head = [
    0xff,
    0xd8,
    ...seg(0xdb, [0, ...new Array<number>(64).fill(1)]),
    ...seg(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]),
    ...seg(0xc4, oneSymbolTable(0)),
    ...seg(0xc4, oneSymbolTable(1)),
    ...seg(0xda, [3, 1, 0, 2, 0, 3, 0, 0, 63, 0]),
  ];
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8) * 3;
  const data = Buffer.alloc(Math.ceil((blocks * 2) / 8));
  return Buffer.concat([Buffer.from(head), data, Buffer.from([0xff, 0xd9])]);
}

const resize256 = (w: number, h: number) => ({ box: { left: 0, top: 0, width: w, height: h }, width: 256, height: 256 });

test('the default pixel limit is PIL’s MAX_IMAGE_PIXELS', () => {
  assert.equal(DEFAULT_MAX_PIXELS, 89_478_485);
});

test('a JPEG whose header claims 13000×13000 is refused from the header, quickly, naming the file and the limit', async () => {
  const bytes = uniformJpeg(13000, 13000);
  const start = Date.now();
  await assert.rejects(
    decodeImage(bytes, 'huge.jpg', {}, resize256),
    (e: unknown) =>
      e instanceof BadImageError && e.kind === 'too-large' && /^huge\.jpg: too-large: .*13000x13000.*89478485/.test(e.message),
  );
  await assert.rejects(decodeImage(bytes, 'huge.jpg'), (e: unknown) => e instanceof BadImageError && e.kind === 'too-large');
  assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
});

test('a 1×65500 strip resized to 256 is a too-large error, not a RangeError (decoder and transform)', async () => {
  const bytes = uniformJpeg(1, 65500);
  const start = Date.now();
  const pick = (w: number, h: number) => ({ box: { left: 0, top: 0, width: w, height: h }, width: 256, height: (256 * h) / w });
  await assert.rejects(
    decodeImage(bytes, 'strip.jpg', {}, pick),
    (err: unknown) =>
      err instanceof BadImageError &&
      err.kind === 'too-large' &&
      /strip\.jpg: too-large: resizing 1x65500 to 256x16768000/.test(err.message),
  );
  const img = u8Image(new Uint8Array(65500 * 3), 1, 65500, 3);
  assert.throws(
    () => applyTransforms([T.resize(256)], img, new Generator(0)),
    (err: unknown) => err instanceof DataError && /1x65500 image to 256x16768000 would exceed the 89478485-pixel limit/.test(err.message),
  );
  assert.ok(Date.now() - start < 5000);
});

test('shrink-on-load is chosen only for large regions, leaving at least twice the target size', () => {
  assert.equal(dctShrink({ left: 0, top: 0, width: 4000, height: 3000 }, 256, 256), 1, 'normal photos keep PIL’s exact pixels');
  assert.equal(dctShrink({ left: 0, top: 0, width: 9000, height: 9000 }, 256, 256), 8);
  assert.equal(dctShrink({ left: 0, top: 0, width: 9000, height: 9000 }, 1000, 1000), 4);
  assert.equal(dctShrink({ left: 0, top: 0, width: 9000, height: 9000 }, 4000, 4000), 1);
});

test(
  'a 9000×9000 JPEG resized to 256×256 decodes in bounded memory (DCT scaling)',
  { skip: imageAddon().addon ? false : imageAddon().reason },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'alexnet-bomb-'));
    try {
      const file = join(dir, 'big.jpg');
      writeFileSync(file, uniformJpeg(9000, 9000));
      // In a child, so that its peak RSS is this decode's alone. A full decode holds 243 MB of pixels.
      const script = `
      import { decodeImageFile } from ${JSON.stringify(join(DIST, 'src', 'data', 'decode.js'))};
      const before = process.memoryUsage().rss;
      const img = await decodeImageFile(${JSON.stringify(file)}, {}, (w, h) => ({ box: { left: 0, top: 0, width: w, height: h }, width: 256, height: 256 }));
      const grey = img.data.every((v) => v === 128);
      console.log(JSON.stringify({ w: img.width, h: img.height, grey, growthMB: (process.resourceUsage().maxRSS * 1024 - before) / 2 ** 20 }));
    `;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as { w: number; h: number; grey: boolean; growthMB: number };
      assert.deepEqual([got.w, got.h, got.grey], [256, 256, true]);
      assert.ok(got.growthMB < 100, `peak RSS grew by ${got.growthMB.toFixed(0)} MB`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'a region decoded with DCT scaling is close to the exact decode (same box, same size)',
  { skip: imageAddon().addon ? false : imageAddon().reason },
  async () => {
    const jpeg = imageAddon().addon!;
    const bytes = readFileSync(join(DIST, '..', 'test', 'fixtures', 'data', 'photos', 'street.jpg'));
    for (const [box, ow, oh] of [
      [[0, 0, 500, 375], 60, 45],
      [[37, 21, 401, 302], 50, 37],
      [[250, 180, 250, 195], 31, 24],
    ] as const) {
      const exact = await jpeg.decodeJpeg(bytes, [...box], ow, oh);
      for (const s of [2, 4, 8]) {
        const scaled = await jpeg.decodeJpeg(bytes, [...box], ow, oh, s);
        assert.deepEqual([scaled.width, scaled.height], [ow, oh]);
        let sum = 0;
        for (let i = 0; i < exact.data.length; i++) sum += Math.abs(exact.data[i]! - scaled.data[i]!);
        const mean = sum / exact.data.length;
        assert.ok(mean < 4, `box ${box.join(',')} at 1/${s}: mean difference ${mean.toFixed(2)} grey levels`);
      }
    }
  },
);
