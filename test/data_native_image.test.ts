// The image addon (native/image/): a libjpeg-turbo region decode plus PIL's resize gives exactly
// what decoding the whole image, cutting the box and resizing gives (torchvision's
// resized_crop), for every chroma subsampling, progressive and grey files; the whole-image decode
// is PIL's (fixtures); bad data is a clean rejection naming the file, never a crash. The
// transform and decode suites also pass without the addon (sharp and TypeScript paths). Skipped
// where the addon is not built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { readNpy } from '../src/io/npy.js';
import { BadImageError, crop, decodeImage, resizeBilinear, u8Image, type U8Image } from '../src/data/index.js';
import { imageAddon } from '../src/data/native_image.js';
import { Generator } from '../src/random.js';

const FIX = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'fixtures', 'data');
const addon = imageAddon().addon;
const skip = addon ? false : `image addon unavailable: ${imageAddon().reason}`;

/** A 333×251 noisy scene (odd sizes: partial iMCUs at the right and bottom). */
function scene(g: Generator, w = 333, h = 251): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++)
        px[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, 128 + 90 * Math.sin(x / (9 + c) + y / 23) + (g.uniform() - 0.5) * 40));
    }
  }
  return px;
}

async function variants(): Promise<[string, Buffer][]> {
  const raw = sharp(scene(new Generator(3)), { raw: { width: 333, height: 251, channels: 3 } });
  return [
    ['street.jpg (PIL, 4:2:0)', readFileSync(join(FIX, 'photos', 'street.jpg'))],
    ['4:4:4', await raw.clone().jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer()],
    ['4:2:0 progressive', await raw.clone().jpeg({ quality: 80, progressive: true }).toBuffer()],
    ['grey', await raw.clone().greyscale().jpeg({ quality: 90 }).toBuffer()],
    ['gray.jpg (PIL)', readFileSync(join(FIX, 'unusual', 'gray.jpg'))],
  ];
}

async function full(bytes: Buffer): Promise<U8Image> {
  const h = addon!.jpegHeader(bytes);
  const img = await addon!.decodeJpeg(bytes, [0, 0, h.width, h.height], h.width, h.height);
  return u8Image(img.data, img.width, img.height, 3);
}

test('a region decode + resize equals full decode, crop, resize (random boxes, every layout)', { skip }, async () => {
  const g = new Generator(11);
  for (const [name, bytes] of await variants()) {
    const whole = await full(bytes);
    for (let t = 0; t < 40; t++) {
      const left = g.int(whole.width - 1);
      const top = g.int(whole.height - 1);
      const width = 1 + g.int(whole.width - left);
      const height = 1 + g.int(whole.height - top);
      const [ow, oh] = t % 3 === 0 ? [width, height] : [1 + g.int(300), 1 + g.int(300)];
      const got = await addon!.decodeJpeg(bytes, [left, top, width, height], ow, oh);
      const want = resizeBilinear(crop(whole, { left, top, width, height }), ow, oh);
      assert.deepEqual([got.width, got.height], [ow, oh]);
      let diff = 0;
      for (let i = 0; i < want.data.length; i++) if (got.data[i] !== want.data[i]) diff++;
      assert.equal(diff, 0, `${name}: box ${left},${top} ${width}x${height} -> ${ow}x${oh}: ${diff} bytes differ`);
    }
  }
});

test("the whole-image decode is PIL's convert('RGB') byte for byte", { skip }, async () => {
  for (const file of ['gray.jpg', 'exif_rotated.jpg']) {
    const want = readNpy(join(FIX, 'unusual', `${file}.rgb.npy`));
    const got = await full(readFileSync(join(FIX, 'unusual', file)));
    assert.deepEqual(Array.from(want.shape), [got.height, got.width, 3]);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(want.data as Uint8Array)), file);
  }
});

test('truncated, corrupt and garbage JPEG data: BadImageError or a valid image, never a crash', { skip }, async () => {
  const bytes = readFileSync(join(FIX, 'photos', 'street.jpg'));
  // Cut short: the region path is not taken (no EOI); the full decode names the truncation.
  const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
  await assert.rejects(
    decodeImage(cut, 'cut.jpg'),
    (e: unknown) => e instanceof BadImageError && e.path === 'cut.jpg' && e.kind === 'corrupt',
  );
  const h = addon!.jpegHeader(cut);
  await assert.rejects(addon!.decodeJpeg(cut, [0, 0, h.width, h.height], 64, 64), /truncated/);
  // Random damage anywhere (headers included): the addon resolves or rejects with a message.
  const g = new Generator(5);
  let rejected = 0;
  for (let t = 0; t < 150; t++) {
    const bad = Buffer.from(bytes);
    for (let k = 0; k < 1 + g.int(20); k++) bad[g.int(Math.min(bad.length, t % 2 ? 700 : bad.length))] = g.int(256);
    try {
      const img = await decodeImage(bad, `bad${t}.jpg`);
      assert.equal(img.data.length, img.width * img.height * img.channels);
    } catch (e) {
      assert.ok(e instanceof BadImageError && e.path === `bad${t}.jpg`, String(e));
      rejected++;
    }
  }
  assert.ok(rejected > 0);
  // Bad arguments are TypeErrors/RangeErrors, and a box outside the image a rejection.
  assert.throws(() => addon!.decodeJpeg(bytes, [0, 0, 0, 5], 5, 5), RangeError);
  await assert.rejects(addon!.decodeJpeg(bytes, [0, 0, 100000, 5], 5, 5), /outside/);
});

test('without the addon (ALEXNET_NATIVE_IMAGE=0) the transform and decode suites pass on sharp and TypeScript', { skip }, () => {
  const here = fileURLToPath(new URL('.', import.meta.url));
  // A fresh test runner, not a child of this one (NODE_TEST_CONTEXT would make it report to us).
  const env: NodeJS.ProcessEnv = { ...process.env, ALEXNET_NATIVE_IMAGE: '0' };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--test', join(here, 'data_transforms.test.js'), join(here, 'data_decode.test.js')], {
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 24,
  });
  assert.equal(
    r.status,
    0,
    r.stdout
      .split('\n')
      .filter((l) => /^not ok|error/.test(l))
      .join('\n'),
  );
  assert.match(r.stdout, /# fail 0/);
});
