// The server's numbers on torchvision's AlexNet (random weights written here, ImageNet's class
// names): each sample photo gets the same top-5 classes and probabilities from POST /v1/predict
// as from `alexnet predict` with the same weights.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { writePth } from '../src/io/pth/index.js';
import { createModel } from '../src/models/index.js';
import { Generator } from '../src/random.js';
import { modelWeights } from '../src/train/weights.js';
import { http, sample, SAMPLES, startServer } from './serve_helpers.js';
import { runCli, tempDir } from './train_helpers.js';

interface Prediction {
  index: number;
  class: string;
  probability: number;
}

test("alexnet: POST /v1/predict answers exactly alexnet predict's top-5 for each sample photo", { timeout: 180_000 }, async () => {
  const weights = join(tempDir('serve-alexnet'), 'alexnet.pth');
  writePth(weights, modelWeights(createModel('alexnet', { rng: new Generator(7) })));
  const r = runCli(['predict', ...SAMPLES, '--weights', weights, '--json'], { ALEXNET_BACKEND: process.env.ALEXNET_BACKEND ?? 'native' });
  assert.equal(r.status, 0, r.stderr);
  const expected = JSON.parse(r.stdout) as { predictions: Prediction[] }[];
  const server = await startServer(['--weights', weights, '--max-batch', '4']);
  try {
    for (const [i, want] of expected.entries()) {
      const a = await http(`${server.base}/v1/predict`, { body: sample(i) });
      assert.equal(a.status, 200, a.body);
      const got = (a.json() as { predictions: Prediction[] }).predictions;
      assert.deepEqual(
        got.map((p) => [p.index, p.class]),
        want.predictions.map((p) => [p.index, p.class]),
        SAMPLES[i],
      );
      got.forEach((p, k) =>
        assert.ok(
          Math.abs(p.probability - want.predictions[k]!.probability) <= 1e-6,
          `${SAMPLES[i]}: ${p.probability} vs ${want.predictions[k]!.probability}`,
        ),
      );
    }
    assert.match(expected[0]!.predictions[0]!.class, /^[a-z]/i, 'ImageNet class names');
  } finally {
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
  }
});
