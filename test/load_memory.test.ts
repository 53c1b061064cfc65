// Loading a full-size torchvision AlexNet .pth (233 MB of float32 weights) for `forward` and
// `predict` (and a .safetensors for `forward`) peaks at most 1.5× the file's size in the CLI
// child, on both backends: the model is
// built without a random initialisation that the file would overwrite, and each tensor is
// streamed from the file into its parameter's storage in chunks, never held twice.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { archShapes } from '../src/io/model_from_weights.js';
import { writeNpy } from '../src/io/npy.js';
import { writePth } from '../src/io/pth/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { numel } from '../src/shape.js';
import { runCliMeasured } from './ckpt_fixtures.js';
import { root, tempDir } from './train_helpers.js';
import { skip as nativeSkip } from './native_helpers.js';

const dir = tempDir('load-memory');
const weights = join(dir, 'alexnet.pth');
const safetensors = join(dir, 'alexnet.safetensors');
const input = join(dir, 'x.npy');
const image = join(root, 'test/fixtures/data/photos/portrait.png');

/** torchvision's alexnet state dict (3 channels, 1000 classes), small distinct values per key. */
function writeFullSizeWeights(): void {
  const tensors = new Map(
    archShapes('alexnet', 3, 1000, 256 * 6 * 6).map(([key, shape], k) => {
      const data = new Float32Array(numel(shape));
      for (let i = 0; i < data.length; i += 97) data[i] = ((i % 13) - 6 + k) * 1e-3;
      return [key, { shape, data }] as const;
    }),
  );
  writePth(weights, tensors);
  writeSafetensors(safetensors, tensors);
}

writeFullSizeWeights();
writeNpy(input, new Float32Array(3 * 224 * 224).fill(0.5), [1, 3, 224, 224]);
const fileMiB = statSync(weights).size / 2 ** 20;

for (const backend of ['reference', 'native']) {
  for (const command of ['forward', 'predict']) {
    test(`${command} with a ${fileMiB.toFixed(0)} MiB .pth peaks under 1.5× the file on the ${backend} backend`, (t) => {
      if (backend === 'native' && nativeSkip) return t.skip(nativeSkip);
      const args =
        command === 'forward'
          ? ['forward', '--weights', weights, '--input', input, '--output', join(dir, `y-${backend}.npy`)]
          : ['predict', image, '--weights', weights];
      const r = runCliMeasured(args, { ALEXNET_BACKEND: backend });
      assert.equal(r.status, 0, r.stderr);
      t.diagnostic(`peak RSS ${r.peakMiB.toFixed(0)} MiB`);
      assert.ok(r.peakMiB <= 1.5 * fileMiB, `peak RSS ${r.peakMiB.toFixed(0)} MiB for a ${fileMiB.toFixed(0)} MiB file`);
    });
  }
  test(`forward with the same weights as .safetensors peaks under 1.5× the file on the ${backend} backend`, (t) => {
    if (backend === 'native' && nativeSkip) return t.skip(nativeSkip);
    const r = runCliMeasured(['forward', '--weights', safetensors, '--input', input, '--output', join(dir, `ys-${backend}.npy`)], {
      ALEXNET_BACKEND: backend,
    });
    assert.equal(r.status, 0, r.stderr);
    t.diagnostic(`peak RSS ${r.peakMiB.toFixed(0)} MiB`);
    assert.ok(r.peakMiB <= 1.5 * fileMiB, `peak RSS ${r.peakMiB.toFixed(0)} MiB for a ${fileMiB.toFixed(0)} MiB file`);
  });
}
