// The server's decoding of Resize + CenterCrop as a window of the resize (native/image's
// decodeJpeg window, src/serve/preprocess.ts): the window's pixels equal the whole resize's, cut,
// byte for byte (random windows and boxes, 4:2:0, 4:4:4, progressive and grey JPEGs, enlargements
// and one-axis resizes); the server's input tensor equals predict's preprocessing for JPEGs and
// for a PNG (which takes sharp and TypeScript, cropped after the resize), also when decoded into a
// recycled array. Skipped where the image addon is not built.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeImage } from '../src/data/decode.js';
import { imageAddon } from '../src/data/native_image.js';
import { Generator } from '../src/random.js';
import { preprocessor, type PreprocessSpec } from '../src/serve/preprocess.js';
import { materialize } from '../src/train/data.js';
import { evalTransformsFor, inputFromPixels } from '../src/train/predict.js';
import type { ModelInfo } from '../src/train/weights.js';
import { sample } from './serve_helpers.js';

const addon = imageAddon().addon;
const skip = addon ? false : `image addon unavailable: ${imageAddon().reason}`;

async function jpegs(): Promise<[string, Buffer][]> {
  const g = new Generator(5);
  const w = 301;
  const h = 217;
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = Math.floor(128 + 100 * Math.sin(i / 97) + (g.uniform() - 0.5) * 50);
  const raw = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  return [
    ['cat.jpg', sample(0)],
    ['rocket.jpg', sample(2)],
    ['4:4:4', await raw.clone().jpeg({ quality: 92, chromaSubsampling: '4:4:4' }).toBuffer()],
    ['progressive', await raw.clone().jpeg({ quality: 80, progressive: true }).toBuffer()],
    ['grey', await raw.clone().greyscale().jpeg({ quality: 90 }).toBuffer()],
  ];
}

test('a window of the resize equals the whole resize, cut, byte for byte', { skip }, async () => {
  const g = new Generator(11);
  for (const [name, bytes] of await jpegs()) {
    const { width: W, height: H } = addon!.jpegHeader(bytes);
    const boxes: [[number, number, number, number], number, number][] = [
      [[0, 0, W, H], Math.round((W * 256) / H), 256], // torchvision's Resize(256), landscape
      [[0, 0, W, H], 224, 224],
      [[0, 0, W, H], W, 150], // only the rows resized
      [[0, 0, W, H], W + 40, H + 30], // enlarged
      [[7, 11, W - 20, H - 30], 160, 130], // a box cut first (resized_crop), then a window
    ];
    for (const [box, ow, oh] of boxes) {
      const whole = await addon!.decodeJpeg(bytes, box, ow, oh);
      for (let t = 0; t < 4; t++) {
        const ww = 1 + g.int(ow);
        const wh = 1 + g.int(oh);
        const win: [number, number, number, number] = [g.int(ow - ww + 1), g.int(oh - wh + 1), ww, wh];
        const part = await addon!.decodeJpeg(bytes, box, ow, oh, 1, win);
        assert.deepEqual([part.width, part.height], [ww, wh]);
        const expected = new Uint8Array(ww * wh * 3);
        for (let y = 0; y < wh; y++) {
          const from = ((win[1] + y) * ow + win[0]) * 3;
          expected.set(whole.data.subarray(from, from + ww * 3), y * ww * 3);
        }
        assert.ok(Buffer.from(part.data).equals(Buffer.from(expected)), `${name}: box ${box} to ${ow}x${oh}, window ${win}`);
      }
    }
    assert.throws(() => addon!.decodeJpeg(bytes, [0, 0, W, H], 100, 100, 1, [50, 0, 51, 10]), /window must lie inside/);
    // Into a caller's array of exactly the result's size (the server recycles them): the same bytes, in that array.
    const into = new Uint8Array(100 * 90 * 3).fill(7);
    const viaInto = await addon!.decodeJpeg(bytes, [0, 0, W, H], 300, 260, 1, [10, 20, 100, 90], into);
    assert.equal(viaInto.data, into);
    const fresh = await addon!.decodeJpeg(bytes, [0, 0, W, H], 300, 260, 1, [10, 20, 100, 90]);
    assert.ok(Buffer.from(into).equals(Buffer.from(fresh.data)), `${name}: into`);
    assert.throws(() => addon!.decodeJpeg(bytes, [0, 0, W, H], 300, 260, 1, [10, 20, 100, 90], new Uint8Array(5)), /into must hold/);
  }
});

test("the server's input equals predict's preprocessing (JPEGs through the window, a PNG cropped after its resize)", { skip }, async () => {
  const info: ModelInfo = { arch: 'alexnet', numClasses: 1000, inChannels: 3, inputSize: 224, classes: [], evalTransforms: [] };
  const transforms = materialize(evalTransformsFor(info), () => '');
  assert.deepEqual(
    transforms.slice(0, 2).map((t) => t.type),
    ['resize', 'centerCrop'],
  );
  const spec: PreprocessSpec = { info, transforms, maxPixels: 1 << 26 };
  const serve = preprocessor(spec);
  const png = await sharp(sample(3)).png().toBuffer();
  for (const [name, bytes] of [...(await jpegs()), ['astronaut.png', png] as [string, Buffer]]) {
    const predicted = inputFromPixels(await decodeImage(bytes, name, { channels: 3 }), name, info, transforms);
    const served = await serve(bytes, name);
    assert.deepEqual(served.shape, predicted.shape, name);
    assert.ok(Buffer.from(served.x.buffer).equals(Buffer.from(predicted.x.buffer)), name);
    // Into a caller's array of the right size (the server's shared slot): the same values, in place.
    // (Every image after the first decodes into a recycled pixel array of an earlier one.)
    const out = new Float32Array(predicted.x.length);
    const inPlace = await serve(bytes, name, out);
    assert.equal(inPlace.x, out);
    assert.ok(Buffer.from(out.buffer).equals(Buffer.from(predicted.x.buffer)), `${name} in place`);
  }
});
