// --parallel hybrid beyond the step itself (whose losses distributed_train.test.ts compares with
// one process): the checkpoint rank 0 writes holds the whole model and momentum, so a hybrid run
// stopped after epoch 1 and resumed with DDP on 2 ranks continues exactly as an uninterrupted
// hybrid run, and resumed in a plain single process trains as from the checkpoint of the same
// epoch trained with DDP (a plain process draws dropout masks from its own stream, so it is compared
// with itself); the split of units over ranks
// (uneven ones too); --parallel outside MPI and FC8 narrower than the job are refused with one line.
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { checkHybridWidths, UnitSplit } from '../src/distributed/unit_split.js';
import { mpiSkip, mpirunArgs } from './distributed_helpers.js';
import { root, runCli, smallRunArgs, tempDir, tinyFashionMnist } from './train_helpers.js';

const skip = mpiSkip();
const ENV = { ...process.env, ALEXNET_BACKEND: 'reference', OMP_NUM_THREADS: '1' };

function mpiTrain(np: number, args: string[]) {
  return spawnSync('mpirun', [...mpirunArgs(np), process.execPath, 'bin/alexnet.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: ENV,
    timeout: 240_000,
  });
}

interface Record {
  type: 'step' | 'epoch';
  epoch: number;
  step: number;
  loss?: number;
  train_loss?: number;
  val_loss?: number;
}

function records(runDir: string): Record[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record);
}

/** The losses of epoch 2's records (steps, then the epoch's train and validation loss). */
function epoch2(runDir: string): number[] {
  return records(runDir)
    .filter((r) => r.epoch === 2)
    .flatMap((r) => (r.type === 'step' ? [r.loss ?? NaN] : [r.train_loss ?? NaN, r.val_loss ?? NaN]));
}

function assertLosses(a: number[], b: number[], what: string): void {
  assert.equal(a.length, b.length, `${what}: ${a.length} vs ${b.length} records`);
  a.forEach((x, i) => {
    const y = b[i] ?? NaN;
    assert.ok(Math.abs(x - y) <= 1e-5 * Math.max(Math.abs(x), Math.abs(y)), `${what}, value ${i}: ${x} vs ${y}`);
  });
}

test(
  'hybrid: a checkpoint resumes with DDP as the uninterrupted run continues, and in a single process as a DDP checkpoint does',
  { skip },
  () => {
    const data = tinyFashionMnist(16, 8);
    const dir = tempDir('hybrid-ckpt');
    const args = (out: string, epochs: number, extra: string[] = []): string[] =>
      smallRunArgs(data, out, ['--workers', '0', '--epochs', String(epochs), ...extra]);
    const whole = mpiTrain(2, args(join(dir, 'whole'), 2, ['--parallel', 'hybrid']));
    assert.equal(whole.status, 0, whole.stderr);
    const first = join(dir, 'first');
    const half = mpiTrain(2, args(first, 1, ['--parallel', 'hybrid']));
    assert.equal(half.status, 0, half.stderr);
    const firstDdp = mpiTrain(2, args(join(dir, 'single-from-ddp'), 1));
    assert.equal(firstDdp.status, 0, firstDdp.stderr);
    for (const name of ['ddp', 'single']) cpSync(first, join(dir, name), { recursive: true });
    const resume = (name: string): string[] => ['train', '--resume', join(dir, name), '--epochs', '2', '--workers', '0'];
    const ddp = mpiTrain(2, [...resume('ddp'), '--parallel', 'ddp']);
    assert.equal(ddp.status, 0, ddp.stderr);
    assert.match(ddp.stdout, /resuming .* at epoch 2, batch 0/);
    assertLosses(epoch2(join(dir, 'ddp')), epoch2(join(dir, 'whole')), 'DDP resume vs the uninterrupted hybrid run');
    for (const name of ['single', 'single-from-ddp']) {
      const single = runCli(resume(name), { ALEXNET_BACKEND: 'reference' });
      assert.equal(single.status, 0, single.stderr);
    }
    // Batch 4 on one process: 4 steps in epoch 2, then the epoch's record.
    const losses = epoch2(join(dir, 'single'));
    assert.equal(losses.length, 6);
    assertLosses(losses, epoch2(join(dir, 'single-from-ddp')), 'single-process resume of the hybrid checkpoint vs of the DDP one');
  },
);

test('hybrid: --parallel outside an MPI job is a usage error', () => {
  const r = runCli(['train', '--dataset', 'fashion-mnist=/nowhere', '--parallel', 'hybrid']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--parallel hybrid needs an MPI launch/);
});

test('hybrid: units split in contiguous ranges differing by at most one; columns reassemble exactly', () => {
  const even = new UnitSplit(4096, 2);
  assert.deepEqual([even.starts, even.widths, even.widest], [[0, 2048], [2048, 2048], 2048]);
  const uneven = new UnitSplit(10, 4);
  assert.deepEqual([uneven.starts, uneven.widths, uneven.widest], [[0, 3, 6, 8], [3, 3, 2, 2], 3]);
  const rows = 3;
  const whole = Float32Array.from({ length: rows * 10 }, (_, i) => i + 1);
  const blocks = uneven.splitColumns(whole, rows);
  assert.equal(blocks.length, 4 * rows * 3);
  // Rank 2's block: units 6 and 7 of each row, then a zero of padding.
  assert.deepEqual([...blocks.subarray(2 * rows * 3, 2 * rows * 3 + 3)], [7, 8, 0]);
  assert.deepEqual(uneven.assembleColumns(blocks, rows), whole);
  assert.throws(
    () => checkHybridWidths([{ name: 'FC8', units: 10 }], 16),
    (e: unknown) => e instanceof UsageError && /FC8 has 10, fewer than the 16 ranks/.test(e.message),
  );
});
