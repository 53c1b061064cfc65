// Checkpoint files (round trip, torn and corrupted files detected, fallback to the previous good
// one), the metric helpers (top-k, confusion matrix) and recipe resolution.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointStore, decodeCheckpoint, encodeCheckpoint, readCheckpoint } from '../src/train/checkpoint.js';
import { ConfusionMatrix, TopKCounter, softmaxRows, topkIndices } from '../src/train/metrics.js';
import { resolveConfig } from '../src/train/config.js';
import { resolveDataSpec, tenCropTransforms, recipeTransforms } from '../src/train/data.js';
import { tempDir } from './train_helpers.js';

const tensors = () =>
  new Map([
    ['model/w', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5e-8, -6]) }],
    ['optim/0', { shape: [5], data: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5]) }],
  ]);

function bytes(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

test('checkpoint round trip keeps tensors and meta exactly (Infinity included)', () => {
  const meta = { epoch: 3, best: Infinity, worst: -Infinity, rng: { s: [1, 2, 3, 4294967295], spare: 0.123456789012345 } };
  const ck = decodeCheckpoint<typeof meta>(bytes(encodeCheckpoint(meta, tensors())), 'mem');
  assert.deepEqual(ck.meta, meta);
  assert.deepEqual([...ck.tensors.keys()], ['model/w', 'optim/0']);
  assert.deepEqual(ck.tensors.get('model/w')!.shape, [2, 3]);
  assert.deepEqual([...ck.tensors.get('model/w')!.data], [...tensors().get('model/w')!.data]);
});

test('a torn or altered checkpoint is refused with a message naming the file', () => {
  const buf = bytes(encodeCheckpoint({ epoch: 1 }, tensors()));
  for (const cut of [buf.length - 1, buf.length - 40, 100, 13]) {
    assert.throws(() => decodeCheckpoint(buf.subarray(0, cut), 'ck.bin'), /ck\.bin: (torn|not an alexnet|corrupt)/);
  }
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 50]! ^= 1;
  assert.throws(() => decodeCheckpoint(flipped, 'ck.bin'), /ck\.bin: corrupt checkpoint \(SHA-256 mismatch\)/);
  assert.throws(
    () => decodeCheckpoint(Buffer.from('hello world, this is not a checkpoint at all..............'), 'x'),
    /not an alexnet checkpoint/,
  );
});

test('the store keeps the previous checkpoint and falls back to it when the last one is torn', () => {
  const dir = tempDir('ckstore');
  const store = new CheckpointStore(dir);
  store.saveLast({ epoch: 1 }, tensors());
  store.markLastAsBest();
  store.saveLast({ epoch: 2 }, tensors());
  assert.equal(readCheckpoint<{ epoch: number }>(store.prevPath).meta.epoch, 1);
  assert.equal(store.loadNewest<{ epoch: number }>()!.checkpoint.meta.epoch, 2);
  // Damage `last` (as a disk or a non-atomic copy might): the previous good one is used.
  truncateSync(store.lastPath, 200);
  const found = store.loadNewest<{ epoch: number }>()!;
  assert.equal(found.checkpoint.meta.epoch, 1);
  assert.equal(found.path, store.prevPath);
  assert.match(found.rejected[0] ?? '', /last\.ckpt: torn checkpoint/);
  // Stale temporary files of a killed writer are removed.
  writeFileSync(join(dir, 'last.ckpt.tmp-12345'), 'partial');
  store.cleanStale();
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
  );
  assert.ok(existsSync(store.bestPath));
  assert.equal(readCheckpoint<{ epoch: number }>(store.bestPath).meta.epoch, 1);
});

test('top-k, softmax and the confusion matrix', () => {
  const scores = Float32Array.from([0.1, 0.5, 0.2, 0.9, /* row 2 */ 3, 1, 2, 0]);
  assert.deepEqual(topkIndices(scores, 0, 4, 2), [3, 1]);
  assert.deepEqual(topkIndices(scores, 1, 4, 5), [0, 2, 1, 3]);
  const p = softmaxRows(Float32Array.from([0, Math.log(3)]), 1, 2);
  assert.ok(Math.abs(p[0]! - 0.25) < 1e-7 && Math.abs(p[1]! - 0.75) < 1e-7, `softmax ${p[0]}, ${p[1]}`);
  const k = new TopKCounter();
  k.update(scores, [1, 0], 2, 4);
  assert.equal(k.top1Accuracy, 0.5);
  assert.equal(k.top5Accuracy, 1);
  const cm = new ConfusionMatrix(['a', 'b,c']);
  cm.add(0, 0);
  cm.add(0, 1);
  cm.add(1, 1);
  assert.deepEqual(cm.perClassAccuracy(), [0.5, 1]);
  assert.equal(cm.toCsv(), 'true\\predicted,a,"b,c"\na,1,1\n"b,c",0,1\n');
});

test('recipes: Fashion-MNIST quick start, d2l preset, paper and torchvision defaults', () => {
  const fm = resolveDataSpec({ dataset: 'fashion-mnist' });
  assert.equal(fm.kind, 'fashion-mnist');
  const classes = Array.from({ length: 10 }, (_, i) => String(i));
  const quick = resolveConfig({}, fm, classes);
  assert.equal(quick.recipe, 'fashion-mnist');
  assert.equal(quick.inChannels, 1);
  assert.equal(quick.numClasses, 10);
  assert.ok(quick.timeLimitS !== null && quick.timeLimitS <= 600);
  const d2l = resolveConfig({ preset: 'd2l' }, fm, classes);
  assert.deepEqual([d2l.arch, d2l.inputSize, d2l.lr, d2l.batchSize, d2l.epochs, d2l.inChannels], ['alexnet-v1', 224, 0.01, 128, 10, 1]);
  const files = resolveDataSpec({ data: '/nonexistent/data' });
  assert.deepEqual(files, { kind: 'files', train: '/nonexistent/data/train', val: '/nonexistent/data/val' });
  const paper = resolveConfig({ recipe: 'paper' }, files, ['x', 'y']);
  assert.deepEqual(
    [paper.arch, paper.weightDecay, paper.schedule, paper.init, paper.tenCrop, paper.inputSize],
    ['alexnet-2012', 5e-4, 'plateau', 'paper', true, 227],
  );
  const tv = resolveConfig({}, files, ['x', 'y']);
  assert.deepEqual([tv.recipe, tv.weightDecay, tv.schedule, tv.stepSize], ['torchvision', 1e-4, 'step', 30]);
  assert.throws(() => resolveConfig({ preset: 'd2l' }, files, ['x']), /--preset d2l trains on Fashion-MNIST/);
  assert.throws(() => resolveDataSpec({ dataset: 'cifar10' }), /unknown dataset 'cifar10'/);
  const t = recipeTransforms('paper', {
    inputSize: 227,
    inChannels: 3,
    prepared: false,
    meanImageFile: 'mean_image.npy',
    meanShape: [3, 256, 256],
  });
  assert.deepEqual(
    t.train.map((s) => s.type),
    ['resize', 'centerCrop', 'toTensor', 'subtractMean', 'randomCrop', 'randomHorizontalFlip', 'pcaLighting'],
  );
  assert.deepEqual(
    tenCropTransforms(t.eval).map((s) => s.type),
    ['resize', 'centerCrop', 'toTensor', 'subtractMean', 'tenCrop'],
  );
});
