// Transforms that do not fit the image they get (an image too small for a crop, a mean image or
// normalisation of another shape, a grey image where RGB is needed) are ShapeErrors — DataErrors
// the CLI reports in one line — with the sizes at fault, whichever path (fused or not) runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShapeError } from '../src/errors.js';
import { applyTransforms, T, u8Image } from '../src/data/index.js';
import { Generator } from '../src/random.js';

const rgb = (w: number, h: number) => u8Image(new Uint8Array(w * h * 3).fill(100), w, h, 3);
const grey = (w: number, h: number) => u8Image(new Uint8Array(w * h).fill(100), w, h, 1);

test('transforms that do not fit the image are ShapeErrors naming the sizes', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['tenCrop', () => applyTransforms([T.tenCrop(64)], rgb(32, 40), new Generator(0)), /tenCrop: crop 64x64 larger than the 40x32 image/],
    ['randomCrop', () => applyTransforms([T.randomCrop(64)], rgb(32, 40), new Generator(0)), /randomCrop: crop 64x64 larger/],
    [
      'subtractMean',
      () => applyTransforms([T.toTensor(), T.subtractMean(new Float32Array(3 * 8 * 8), [3, 8, 8])], rgb(16, 16), new Generator(0)),
      /subtractMean: mean image is 3x8x8 but the image is 3x16x16/,
    ],
    [
      'normalize (fused)',
      () => applyTransforms([T.toTensor(), T.normalize()], grey(8, 8), new Generator(0)),
      /normalize: 3 means \/ 3 stds for a 1-channel image/,
    ],
    [
      'normalize',
      () => applyTransforms([T.toTensor(), T.normalize(), T.normalize([0.5], [0.5])], rgb(8, 8), new Generator(0)),
      /normalize: 1 means \/ 1 stds for a 3-channel image/,
    ],
    [
      'pcaLighting',
      () => applyTransforms([T.toTensor(), T.pcaLighting()], grey(8, 8), new Generator(0)),
      /pcaLighting: needs 3 channels, got 1/,
    ],
  ];
  for (const [name, run, message] of cases) {
    assert.throws(run, (e: unknown) => e instanceof ShapeError && message.test(e.message), name);
  }
});
