// A whole `alexnet train` run on a tiny Fashion-MNIST (reference backend): every RUN_DIR file is
// produced and readable (PNG plots decode, the final .pth loads in PyTorch with
// weights_only=True and gives our logits), then `eval` and `predict` on its weights, a NaN loss
// stopping the run, and one-line usage errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { setBackend } from '../src/backend/registry.js';
import { writeNpy } from '../src/io/npy.js';
import { noGrad, Tensor } from '../src/tensor.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { modelFromWeights } from '../src/train/weights.js';
import { root, runCli, smallRunArgs, tempDir, tinyFashionMnist, torchPython } from './train_helpers.js';

let data = '';
let run = '';
let stdout = '';

before(() => {
  data = tinyFashionMnist(8, 6);
  run = join(tempDir('run'), 'run');
  const r = runCli(smallRunArgs(data, run, ['--epochs', '2']));
  stdout = r.stdout;
  assert.equal(r.status, 0, `train failed:\n${r.stdout}\n${r.stderr}`);
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('a run leaves every file in RUN_DIR, and they are readable', async () => {
  for (const f of [
    'config.json',
    'metrics.jsonl',
    'metrics.csv',
    'summary.json',
    'model.pth',
    'model.json',
    'loss.png',
    'error.png',
    'lr.png',
    'conv1_filters.png',
  ]) {
    assert.ok(existsSync(join(run, f)), `${f} missing; RUN_DIR holds ${readdirSync(run).join(', ')}`);
  }
  for (const f of ['last.ckpt', 'best.ckpt']) assert.ok(readCheckpoint(join(run, 'checkpoints', f)), f);
  for (const f of ['loss.png', 'error.png', 'lr.png', 'conv1_filters.png']) {
    const buf = readFileSync(join(run, f));
    assert.deepEqual(buf.subarray(0, 8), PNG_SIGNATURE, `${f} is not a PNG`);
    const meta = await sharp(buf).metadata();
    assert.equal(meta.format, 'png');
    assert.ok((meta.width ?? 0) > 100 && (meta.height ?? 0) > 50, `${f}: ${meta.width}x${meta.height}`);
    const stats = await sharp(buf).stats();
    assert.ok(
      stats.channels.some((c) => c.max - c.min > 50),
      `${f} is blank`,
    );
  }
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
  assert.equal(config.arch, 'alexnet-v1');
  assert.equal(config.inputSize, 65);
  assert.equal(config.seed, 7);
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  assert.deepEqual(
    Object.keys(summary).sort(),
    ['arch', 'backend', 'dataset', 'epochs', 'img_per_s', 'precision', 'val_top1', 'val_top5', 'wall_s'].sort(),
  );
  assert.equal(summary.epochs, 2);
  assert.equal(summary.backend, 'reference');
  assert.ok(summary.val_top1 >= 0 && summary.val_top1 <= 1 && summary.val_top5 >= summary.val_top1 && summary.val_top5 <= 1);
  const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.type === 'step').length, 4);
  assert.deepEqual(
    lines.filter((l) => l.type === 'epoch').map((l) => l.epoch),
    [1, 2],
  );
  const csv = readFileSync(join(run, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.match(csv[0] ?? '', /^epoch,step,train_loss,train_top1,val_loss,val_top1,val_top5,lr/);
  assert.equal(csv.length, 3);
  assert.match(stdout, /reduced input 65×65/);
  assert.match(stdout, /epoch 2\/2: train loss [\d.]+, train top-1 [\d.]+% \| val loss [\d.]+, top-1 error [\d.]+%, top-5 error [\d.]+%/);
  assert.match(stdout, /predictions for the first 6 validation images/);
});

test('the final .pth loads in PyTorch with weights_only=True and gives the same logits', (t) => {
  const { python, reason } = torchPython();
  if (!python) {
    t.skip(`PyTorch check skipped: ${reason}`);
    console.log(`# skipped the PyTorch load of model.pth: ${reason}`);
    return;
  }
  setBackend('reference');
  const { model } = modelFromWeights(join(run, 'model.pth'));
  const x = Tensor.randn([2, 1, 65, 65], { mean: 0, std: 1 });
  const input = join(tempDir('pthin'), 'x.npy');
  writeNpy(input, x.toArray() as Float32Array, [2, 1, 65, 65]);
  const ours = noGrad(() => model.forward(x)).toArray();
  const r = spawnSync(
    python,
    [join(root, 'scripts/make_train_fixtures.py'), 'check-pth', join(run, 'model.pth'), 'alexnet-v1', '10', '1', '65', input],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const theirs = JSON.parse(r.stdout).logits as number[];
  assert.equal(theirs.length, 20);
  theirs.forEach((v, i) => {
    const mine = ours[i] ?? NaN;
    assert.ok(Math.abs(v - mine) <= 1e-4 + 1e-4 * Math.abs(v), `logit ${i}: torch ${v}, ours ${mine}`);
  });
});

test("eval writes the confusion matrix (CSV, PNG) and JSON; predict uses the run's class names", async () => {
  const out = tempDir('eval');
  const r = runCli(['eval', '--weights', join(run, 'model.pth'), '--dataset', `fashion-mnist=${data}`, '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.images, 6);
  assert.ok(result.top1_error >= 0 && result.top1_error <= 1);
  assert.equal(result.per_class.length, 10);
  assert.equal(result.per_class[0].class, 'T-shirt/top');
  const csv = readFileSync(join(out, 'confusion_matrix.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 11);
  const total = csv.slice(1).reduce(
    (s, line) =>
      s +
      line
        .split(',')
        .slice(-10)
        .map(Number)
        .reduce((a, b) => a + b, 0),
    0,
  );
  assert.equal(total, 6);
  const png = readFileSync(join(out, 'confusion_matrix.png'));
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
  assert.equal((await sharp(png).metadata()).format, 'png');
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')).images, 6);
  // Ten crops of a resize-only pipeline still run (the image and its flip, five times each).
  const ten = runCli([
    'eval',
    '--weights',
    join(run, 'checkpoints', 'last.ckpt'),
    '--dataset',
    `fashion-mnist=${data}`,
    '--out',
    out,
    '--ten-crop',
  ]);
  assert.equal(ten.status, 0, ten.stderr);
  assert.match(ten.stdout, /6 images \(10 crops\)/);
  // predict on a PNG image (a plain gray square).
  const img = join(out, 'item.png');
  await sharp(Buffer.alloc(28 * 28, 128), { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(img);
  const p = runCli(['predict', img, '--weights', join(run, 'model.pth'), '--topk', '3', '--json']);
  assert.equal(p.status, 0, p.stderr);
  const preds = JSON.parse(p.stdout)[0].predictions;
  assert.equal(preds.length, 3);
  const names = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  for (const q of preds) assert.equal(q.class, names[q.index]);
  assert.ok(preds[0].probability >= preds[1].probability && preds[1].probability >= preds[2].probability);
});

test('a NaN loss stops the run with a message and keeps the last good checkpoint', () => {
  const out = join(tempDir('nan'), 'run');
  const r = runCli(smallRunArgs(tinyFashionMnist(8, 2), out, ['--epochs', '3', '--lr', '1e30', '--momentum', '0']));
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /training diverged: the loss is (NaN|Infinity|-Infinity) at epoch \d+, batch \d+ \(step \d+\); stopping/);
  const last = join(out, 'checkpoints', 'last.ckpt');
  if (existsSync(last)) {
    // The checkpoint on disk is one written before the loss went bad, and it still verifies.
    const ck = readCheckpoint<{ step: number }>(last);
    const stepOfNaN = Number(/\(step (\d+)\)/.exec(r.stderr)![1]);
    assert.ok(ck.meta.step < stepOfNaN);
    assert.match(r.stderr, /last good checkpoint is kept/);
  } else {
    assert.match(r.stderr, /no checkpoint was written yet/);
  }
  assert.ok(!existsSync(join(out, 'summary.json')));
});

test('train usage and data errors are one line with exit 2 / 1', () => {
  const cases: [string[], number, RegExp][] = [
    [['train', '--dataset', 'cifar10'], 2, /unknown dataset 'cifar10'/],
    [['train', '--dataset', `fashion-mnist=${data}`, '--schedule', 'cosine'], 2, /expected one of step, plateau, linear, none/],
    [['train', '--dataset', `fashion-mnist=${data}`, '--freeze', 'features'], 2, /--freeze features needs --pretrained/],
    [['train', '--dataset', 'fashion-mnist=/nonexistent'], 1, /\/nonexistent\/train-images-idx3-ubyte\.gz: cannot read/],
    [['train', '--resume', '/nonexistent/run'], 1, /--resume: \/nonexistent\/run does not exist/],
    [['train', '--resume', run, '--lr', '0.1'], 2, /--resume continues the run with its own settings; drop --lr/],
    [['train', '--dataset', `fashion-mnist=${data}`, '--out', run], 2, /already holds a run: continue it with --resume/],
    [['predict', 'nope.jpg', '--weights', '/nonexistent.pth'], 1, /no such weights file/],
  ];
  for (const [args, code, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: expected one line, got:\n${r.stderr}`);
  }
});

test('resuming a finished run says so and changes nothing', () => {
  const before = readFileSync(join(run, 'metrics.jsonl'), 'utf8');
  const r = runCli(['train', '--resume', run]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /already complete/);
  assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8'), before);
});
