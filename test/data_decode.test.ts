// Decoding: unusual but valid images become what PIL's convert("RGB") / convert("L") gives
// (fixtures from scripts/make_data_fixtures.py), and every kind of broken file is a
// BadImageError naming the file and saying why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpy } from '../src/io/npy.js';
import { BadImageError, decodeImageFile } from '../src/data/index.js';

const FIX = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'fixtures', 'data');
// gray16.png's expected bytes are its high bytes, not PIL's (which clips 16-bit grey to white).
const UNUSUAL = [
  'cmyk.jpg',
  'rgb16.png',
  'gray16.png',
  'rgba.png',
  'gray_alpha.png',
  'gray.jpg',
  'gray.png',
  'palette.png',
  'exif_rotated.jpg',
  'photo.webp',
];

function compare(name: string, got: Uint8Array, ref: Uint8Array): void {
  assert.equal(got.length, ref.length, `${name}: ${got.length} bytes, PIL has ${ref.length}`);
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(got[i]! - ref[i]!));
  // sharp's libjpeg and Debian's may differ by a level in places; PNG/WebP must be exact.
  assert.ok(max <= (name.endsWith('.jpg') ? 2 : 0), `${name}: max difference ${max} from PIL`);
}

for (const name of UNUSUAL) {
  test(`${name} decodes like PIL's convert("RGB") and convert("L")`, async () => {
    const rgb = await decodeImageFile(join(FIX, 'unusual', name));
    assert.deepEqual([rgb.width, rgb.height, rgb.channels], [64, 48, 3]);
    compare(name, rgb.data, readNpy(join(FIX, 'unusual', `${name}.rgb.npy`)).data as Uint8Array);
    const gray = await decodeImageFile(join(FIX, 'unusual', name), { channels: 1 });
    assert.equal(gray.channels, 1);
    compare(name, gray.data, readNpy(join(FIX, 'unusual', `${name}.l.npy`)).data as Uint8Array);
  });
}

test('EXIF orientation is ignored by default (as torchvision) and applied with autoOrient', async () => {
  const path = join(FIX, 'unusual', 'exif_rotated.jpg');
  const plain = await decodeImageFile(path);
  assert.deepEqual([plain.width, plain.height], [64, 48]);
  const turned = await decodeImageFile(path, { autoOrient: true });
  assert.deepEqual([turned.width, turned.height], [48, 64]);
  // Orientation 6 = rotate 90° clockwise: the displayed top-left pixel is the stored bottom-left.
  for (let c = 0; c < 3; c++) assert.equal(turned.data[c], plain.data[47 * 64 * 3 + c]);
});

const BROKEN: [string, string][] = [
  ['truncated.jpg', 'corrupt'],
  ['corrupt.jpg', 'corrupt'],
  ['empty.jpg', 'empty'],
  ['not_an_image.png', 'not-an-image'],
  ['bomb.png', 'too-large'],
];

for (const [name, kind] of BROKEN) {
  test(`broken ${name} is a BadImageError (${kind}) naming the file`, async () => {
    const path = join(FIX, 'broken', name);
    await assert.rejects(decodeImageFile(path), (err: unknown) => {
      assert.ok(err instanceof BadImageError, String(err));
      assert.equal(err.kind, kind, err.message);
      assert.equal(err.path, path);
      assert.ok(err.message.startsWith(path), err.message);
      return true;
    });
  });
}

test('an unreadable file and a lowered pixel limit are reported, not thrown as crashes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-decode-'));
  try {
    const dangling = join(dir, 'gone.jpg');
    symlinkSync(join(dir, 'missing-target.jpg'), dangling);
    await assert.rejects(decodeImageFile(dangling), (e: unknown) => e instanceof BadImageError && e.kind === 'unreadable');
    await assert.rejects(decodeImageFile(dir), (e: unknown) => e instanceof BadImageError && e.kind === 'unreadable');
    if (process.getuid?.() !== 0) {
      // Permissions (root reads anything, so only checked as another user).
      const locked = join(dir, 'locked.jpg');
      copyFileSync(join(FIX, 'photos', 'street.jpg'), locked);
      chmodSync(locked, 0);
      await assert.rejects(
        decodeImageFile(locked),
        (e: unknown) => e instanceof BadImageError && e.kind === 'unreadable' && /EACCES/.test(e.message),
      );
    }
    await assert.rejects(
      decodeImageFile(join(FIX, 'unusual', 'rgba.png'), { maxPixels: 1000 }),
      (e: unknown) => e instanceof BadImageError && e.kind === 'too-large' && /1000/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
