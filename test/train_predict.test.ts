// `alexnet predict` with weights saved by PyTorch gives PyTorch's top-5 classes and
// probabilities for the same preprocessed input, with ImageNet's class names; fine-tuning from
// those weights replaces the last layer and --freeze features leaves the convolutions untouched.
// The 233 MB torchvision state dict is made at test time (scripts/make_train_fixtures.py) when
// /usr/bin/python3 has torch; otherwise these tests are skipped with the reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { readPth } from '../src/io/pth/index.js';
import { root, runCli, tempDir, torchPython } from './train_helpers.js';

const { python, reason } = torchPython();
let fixtures = '';

before(() => {
  if (!python) {
    console.log(`# skipping the PyTorch predict/fine-tune tests: ${reason}`);
    return;
  }
  fixtures = tempDir('predict');
  const r = spawnSync(python, [join(root, 'scripts/make_train_fixtures.py'), 'predict', fixtures], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test("predict on PyTorch-saved weights gives PyTorch's top-5 classes and probabilities (1e-4)", (t) => {
  if (!python) return t.skip(reason);
  const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as { top5: number[]; probs: number[] };
  const r = runCli(['predict', join(fixtures, 'input.npy'), '--weights', join(fixtures, 'alexnet.pth'), '--topk', '5', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout)[0].predictions as { index: number; class: string; probability: number }[];
  assert.deepEqual(
    got.map((p) => p.index),
    expected.top5,
  );
  got.forEach((p, i) =>
    assert.ok(
      Math.abs(p.probability - (expected.probs[i] ?? NaN)) <= 1e-4,
      `class ${p.index}: ${p.probability} vs PyTorch ${expected.probs[i]}`,
    ),
  );
  const names = (JSON.parse(readFileSync(join(root, 'data/imagenet_classes.json'), 'utf8')) as { classes: string[] }).classes;
  assert.equal(names.length, 1000);
  got.forEach((p) => assert.equal(p.class, names[p.index]));
  // The text output names the classes too.
  const text = runCli(['predict', join(fixtures, 'input.npy'), '--weights', join(fixtures, 'alexnet.pth'), '--topk', '2']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(`1\\. ${(names[expected.top5[0] ?? -1] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\d+\\.\\d\\d%`),
  );
});

test('fine-tuning: --pretrained replaces the last layer, --freeze features keeps the convolutions', async (t) => {
  if (!python) return t.skip(reason);
  const data = tempDir('folder');
  for (const split of ['train', 'val']) {
    for (const [k, cls] of ['cat', 'dog'].entries()) {
      mkdirSync(join(data, split, cls), { recursive: true });
      for (let i = 0; i < 2; i++) {
        const px = Buffer.alloc(48 * 40 * 3, 40 + 150 * k + 20 * i);
        await sharp(px, { raw: { width: 48, height: 40, channels: 3 } })
          .png()
          .toFile(join(data, split, cls, `${i}.png`));
      }
    }
  }
  const out = join(tempDir('finetune'), 'run');
  const r = runCli([
    'train',
    data,
    '--arch',
    'alexnet',
    '--input-size',
    '63',
    '--batch-size',
    '2',
    '--epochs',
    '1',
    '--lr',
    '0.001',
    '--pretrained',
    join(fixtures, 'alexnet.pth'),
    '--freeze',
    'features',
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /last layer replaced: 1000 → 2 classes/);
  const before = readPth(join(fixtures, 'alexnet.pth'));
  const after = readPth(join(out, 'model.pth'));
  assert.deepEqual(after.get('classifier.6.weight')!.shape, [2, 4096]);
  for (const k of ['features.0.weight', 'features.10.bias'])
    assert.deepEqual(after.get(k)!.data, before.get(k)!.data, `${k} changed although frozen`);
  assert.notDeepEqual(after.get('classifier.4.weight')!.data, before.get('classifier.4.weight')!.data);
  const info = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.deepEqual(info.classes, ['cat', 'dog']);
});
