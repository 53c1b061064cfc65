// Transforms against torchvision 0.14 + PIL 9.4 fixtures (scripts/make_data_fixtures.py):
// eval preprocessing within 0.02 mean abs per element after normalize, the resampler bit-exact,
// crops/flips/RandomResizedCrop/TenCrop/PCA semantics, and seeded reproducibility.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageAddon } from '../src/data/native_image.js';
import { readNpy } from '../src/io/npy.js';
import { Generator } from '../src/random.js';
import {
  applyTransforms,
  crop,
  decodeImageFile,
  flipHorizontal,
  toFloat,
  floatImage,
  randomResizedCropBox,
  resizeBilinear,
  roundHalfEven,
  symmetricEigen3,
  T,
  torchvisionPreset,
  paperPreset,
  u8Image,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type FloatImage,
  type Pixels,
  type U8Image,
} from '../src/data/index.js';

const FIX = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'fixtures', 'data');

function npyU8(path: string): { data: Uint8Array; shape: number[] } {
  const a = readNpy(path);
  assert.equal(a.dtype, 'uint8', path);
  return { data: a.data as Uint8Array, shape: a.shape };
}

function asFloat(p: Pixels | Pixels[]): FloatImage {
  assert.ok(!Array.isArray(p) && p.kind === 'f32');
  return p as FloatImage;
}

for (const name of ['street.jpg', 'portrait.png', 'wide.jpg', 'small.webp']) {
  test(`eval preprocessing of ${name} matches torchvision within 0.02 mean abs`, async () => {
    const img = await decodeImageFile(join(FIX, 'photos', name));
    const ours = asFloat(applyTransforms(torchvisionPreset('eval'), img, new Generator(0)));
    assert.deepEqual([ours.channels, ours.height, ours.width], [3, 224, 224]);
    const ref = npyU8(join(FIX, 'photos', `${name}.eval.npy`)); // [224, 224, 3] uint8 = ToTensor * 255
    let sum = 0;
    let max = 0;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 224 * 224; p++) {
        const expected = (ref.data[p * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
        const d = Math.abs(ours.data[c * 224 * 224 + p]! - expected);
        sum += d;
        max = Math.max(max, d);
      }
    }
    const mean = sum / (3 * 224 * 224);
    assert.ok(mean <= 0.02, `${name}: mean abs diff ${mean}, max ${max}`);
    // We resample as Pillow does: expect far better than the bound.
    assert.ok(mean < 1e-3, `${name}: mean abs diff ${mean} (max ${max}) — resampling no longer matches Pillow`);
    // JPEGs through the JPEG addon are decoded by libjpeg-turbo as PIL does: the same bytes.
    if (name.endsWith('.jpg') && imageAddon().addon) assert.ok(max < 1e-6, `${name}: max diff ${max} with the JPEG addon`);
  });
}

test("a box is cut first, then resized: torchvision's resized_crop byte for byte (TypeScript and JPEG decoder)", async () => {
  const file = join(FIX, 'photos', 'street.jpg');
  const img = await decodeImageFile(file);
  for (const [left, top, w, h, ow, oh] of [
    [37, 21, 201, 150, 224, 224],
    [300, 10, 7, 9, 64, 48],
  ] as const) {
    const ref = npyU8(join(FIX, 'photos', `street.jpg.resized_crop${left}_${top}_${w}x${h}_${ow}x${oh}.npy`));
    const box = { left, top, width: w, height: h };
    const viaTs = resizeBilinear(img, ow, oh, box);
    const viaDecoder = await decodeImageFile(file, {}, () => ({ box, width: ow, height: oh, resampler: 'pillow' }));
    for (const [what, got] of [
      ['resizeBilinear', viaTs],
      ['decoder', viaDecoder],
    ] as const) {
      let diff = 0;
      for (let i = 0; i < ref.data.length; i++) if (ref.data[i] !== got.data[i]) diff++;
      assert.equal(diff, 0, `${what} ${left},${top} ${w}x${h} -> ${ow}x${oh}: ${diff} bytes differ`);
    }
  }
});

test('bilinear resize is bit-exact with Pillow, down and up', async () => {
  const img = await decodeImageFile(join(FIX, 'photos', 'street.jpg'));
  for (const [h, w] of [
    [37, 53],
    [301, 411],
  ] as const) {
    const ref = npyU8(join(FIX, 'photos', `street.jpg.resize${h}x${w}.npy`));
    const ours = resizeBilinear(img, w, h);
    let diff = 0;
    for (let i = 0; i < ref.data.length; i++) if (ref.data[i] !== ours.data[i]) diff++;
    assert.equal(diff, 0, `${h}x${w}: ${diff} bytes differ`);
  }
});

function ramp(w: number, h: number, c: number): U8Image {
  const d = new Uint8Array(w * h * c);
  for (let i = 0; i < d.length; i++) d[i] = i % 251;
  return u8Image(d, w, h, c);
}

test('center crop rounds offsets like Python and pads when the crop is larger', () => {
  assert.equal(roundHalfEven(58.5), 58);
  assert.equal(roundHalfEven(59.5), 60);
  assert.equal(roundHalfEven(2.4), 2);
  const img = ramp(5, 4, 1); // crop 2x2 from 4x5: top round(1)=1, left round(1.5)=2
  const out = applyTransforms([T.centerCrop(2)], img, new Generator(0)) as U8Image;
  assert.deepEqual([...out.data], [img.data[1 * 5 + 2], img.data[1 * 5 + 3], img.data[2 * 5 + 2], img.data[2 * 5 + 3]]);
  const big = applyTransforms([T.centerCrop([6, 7])], img, new Generator(0)) as U8Image;
  // torchvision pads (6-4)//2 = 1 row on top and (7-5)//2 = 1 column on the left.
  assert.equal(big.data[0], 0);
  assert.equal(big.data[1 * 7 + 1], img.data[0]);
  assert.equal(big.data[4 * 7 + 5], img.data[3 * 5 + 4]);
});

test('flip, toTensor, normalize on a tiny image', () => {
  const img = u8Image(Uint8Array.from([0, 10, 20, 255, 128, 64]), 2, 1, 3);
  const f = applyTransforms(
    [T.randomHorizontalFlip(1), T.toTensor(), T.normalize([0.5, 0.5, 0.5], [0.5, 0.25, 1])],
    img,
    new Generator(0),
  ) as FloatImage;
  assert.deepEqual([f.channels, f.height, f.width], [3, 1, 2]);
  const expect = [(1 - 0.5) / 0.5, (0 - 0.5) / 0.5, (128 / 255 - 0.5) / 0.25, (10 / 255 - 0.5) / 0.25, 64 / 255 - 0.5, 20 / 255 - 0.5];
  expect.forEach((v, i) => assert.ok(Math.abs(f.data[i]! - v) < 1e-6, `${i}: ${f.data[i]} vs ${v}`));
});

test('RandomResizedCrop boxes follow torchvision: area in scale, ratio in range, fallback', () => {
  const g = new Generator(3);
  for (let k = 0; k < 2000; k++) {
    const b = randomResizedCropBox(500, 375, [0.08, 1], [3 / 4, 4 / 3], g);
    assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 375 && b.left + b.width <= 500, JSON.stringify(b));
    const area = (b.width * b.height) / (500 * 375);
    assert.ok(area > 0.07 && area <= 1.0001, `area ${area}`);
    const r = b.width / b.height;
    assert.ok(r > 0.74 && r < 1.35, `ratio ${r}`);
  }
  // Impossible constraints: central fallback with the ratio clamped (torchvision's code path).
  const b = randomResizedCropBox(400, 100, [0.99, 1], [1, 1], new Generator(1));
  assert.deepEqual(b, { top: 0, left: 150, height: 100, width: 100 });
  const out = applyTransforms([T.randomResizedCrop(64)], ramp(500, 375, 3), new Generator(5)) as U8Image;
  assert.deepEqual([out.width, out.height, out.channels], [64, 64, 3]);
});

test('TenCrop gives torchvision order: 4 corners + center, then the same of the flipped image', () => {
  const img = toF(ramp(6, 5, 1));
  const crops = applyTransforms([T.tenCrop(2)], img, new Generator(0)) as FloatImage[];
  assert.equal(crops.length, 10);
  const at = (im: FloatImage, y: number, x: number): number => im.data[y * im.width + x]!;
  const corners = [
    [0, 0],
    [0, 4],
    [3, 0],
    [3, 4],
    [roundHalfEven(1.5), 2],
  ] as [number, number][];
  corners.forEach(([y, x], i) => assert.equal(at(crops[i]!, 0, 0), at(img, y, x), `crop ${i}`));
  // flipped: top-left of the flip is the top-right of the original, mirrored
  assert.equal(at(crops[5]!, 0, 0), at(img, 0, 5));
  assert.equal(at(crops[5]!, 0, 1), at(img, 0, 4));
});

function toF(u: U8Image): FloatImage {
  return applyTransforms([T.toTensor()], u, new Generator(0)) as FloatImage;
}

test('PCA lighting adds one eigvec·(alpha*eigval) shift per channel, alpha ~ N(0, 0.1)', () => {
  const shifts: number[][] = [];
  for (let s = 0; s < 400; s++) {
    const img = floatImage(new Float32Array(3 * 4).fill(0.5), 3, 2, 2);
    const out = applyTransforms([T.pcaLighting()], img, new Generator(s)) as FloatImage;
    for (let c = 0; c < 3; c++) for (let p = 1; p < 4; p++) assert.equal(out.data[c * 4 + p], out.data[c * 4]);
    shifts.push([0, 1, 2].map((c) => out.data[c * 4]! - 0.5));
  }
  // The red shift is dominated by -0.5675*alpha0*0.2175: std ≈ 0.1*0.2175*0.5675 ≈ 0.0123.
  const sd = Math.sqrt(shifts.reduce((a, s) => a + s[0]! * s[0]!, 0) / shifts.length);
  assert.ok(sd > 0.009 && sd < 0.016, `red shift std ${sd}`);
});

test('paper preset: 256 base, mean subtraction, random 227 crop; eval ten crops', () => {
  const img = ramp(300, 260, 3);
  const mean = { data: new Float32Array(3 * 256 * 256).fill(0.25), shape: [3, 256, 256] as [number, number, number] };
  const train = asFloat(applyTransforms(paperPreset('train', { size: 227, meanImage: mean }), img, new Generator(1)));
  assert.deepEqual([train.channels, train.height, train.width], [3, 227, 227]);
  const crops = applyTransforms(paperPreset('eval', { size: 227, meanImage: mean, tenCrop: true }), img, new Generator(1));
  assert.ok(Array.isArray(crops) && crops.length === 10);
  const noPca = asFloat(applyTransforms(paperPreset('eval', { size: 224, meanImage: mean }), img, new Generator(1)));
  const plain = asFloat(applyTransforms([T.resize(256), T.centerCrop(256), T.centerCrop(224), T.toTensor()], img, new Generator(1)));
  for (let i = 0; i < plain.data.length; i += 997) assert.ok(Math.abs(noPca.data[i]! - (plain.data[i]! - 0.25)) < 1e-6);
});

test('same generator seed, same augmentation; different seed, different', () => {
  const img = ramp(500, 375, 3);
  const run = (seed: number): Float32Array => asFloat(applyTransforms(torchvisionPreset('train'), img, new Generator(seed))).data;
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('symmetricEigen3 diagonalises a covariance', () => {
  const m = [
    [0.07, 0.06, 0.05],
    [0.06, 0.065, 0.055],
    [0.05, 0.055, 0.068],
  ];
  const { eigval, eigvec } = symmetricEigen3(m);
  assert.ok(eigval[0]! >= eigval[1]! && eigval[1]! >= eigval[2]!);
  for (let j = 0; j < 3; j++) {
    for (let r = 0; r < 3; r++) {
      const mv = m[r]![0]! * eigvec[0]![j]! + m[r]![1]! * eigvec[1]![j]! + m[r]![2]! * eigvec[2]![j]!;
      assert.ok(Math.abs(mv - eigval[j]! * eigvec[r]![j]!) < 1e-12);
    }
  }
});

test('the fused crop+flip+toTensor+normalize path equals the separate steps exactly', () => {
  const img = ramp(37, 29, 3);
  for (let seed = 0; seed < 20; seed++) {
    const specs = [T.randomCrop([25, 30], 4), T.randomHorizontalFlip(), T.toTensor(), T.normalize()];
    const out = new Float32Array(3 * 25 * 30);
    const fused = applyTransforms(specs, img, new Generator(seed), out) as FloatImage;
    assert.equal(fused.data, out, 'wrote into the given output');
    const g = new Generator(seed);
    const top = g.int(29 + 8 - 25 + 1) - 4;
    const left = g.int(37 + 8 - 30 + 1) - 4;
    let u = crop(img, { top, left, height: 25, width: 30 });
    if (g.uniform() < 0.5) u = flipHorizontal(u);
    const f = toFloat(u);
    const n = 25 * 30;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < n; p++) {
        const want = Math.fround((f.data[c * n + p]! - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!);
        assert.equal(fused.data[c * n + p], want, `seed ${seed} c ${c} p ${p}`);
      }
    }
  }
});
