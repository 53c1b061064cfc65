// `alexnet eval` of a 10-class model on a 2-class folder: one warning line saying so (and the
// evaluation still runs), and eval.json holds rounded numbers, not 0.40859999999999996.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { runCli, tempDir } from './train_helpers.js';
import { smallV1Pth } from './ckpt_fixtures.js';

test('eval warns about a class-count mismatch and writes rounded numbers', async () => {
  const dir = tempDir('ckeval');
  const weights = smallV1Pth(dir);
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      arch: 'alexnet-v1',
      numClasses: 10,
      inChannels: 1,
      inputSize: 65,
      classes: [],
      evalTransforms: [{ type: 'resize', size: [65, 65] }, { type: 'toTensor' }, { type: 'normalize', mean: [0.5], std: [0.5] }],
    }),
  );
  const data = join(dir, 'data');
  for (const [k, cls] of ['cat', 'dog'].entries()) {
    mkdirSync(join(data, cls), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const px = Buffer.alloc(30 * 30, 30 + 90 * k + 25 * i);
      await sharp(px, { raw: { width: 30, height: 30, channels: 1 } })
        .png()
        .toFile(join(data, cls, `${i}.png`));
    }
  }
  const out = join(dir, 'eval');
  const r = runCli(['eval', '--weights', weights, '--data', data, '--out', out, '--workers', '1']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^warning: the model has 10 classes and .*data has 2/);
  const text = readFileSync(join(out, 'eval.json'), 'utf8');
  const result = JSON.parse(text) as { images: number; top1: number; loss: number };
  assert.equal(result.images, 6);
  assert.doesNotMatch(text, /\d\.\d{7,}/, text);
  assert.ok(result.loss > 0);
  const csv = readFileSync(join(out, 'per_class.csv'), 'utf8');
  assert.doesNotMatch(csv, /\d\.\d{7,}/, csv);
});
