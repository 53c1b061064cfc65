// Ctrl-C and SIGTERM stop a real `alexnet train` within one step, wherever they land: in the
// middle of a long epoch (with the in-process loader, --workers 0, and with worker threads, on
// every backend) and in the middle of the validation pass. Each run has a checkpoint, prints the
// "interrupted" line and exits 130. (test/train_resume's SIGINT test lands near an epoch end,
// where the plots' asynchronous rendering lets the signal in even without the fix.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { skip as nativeSkip } from './native_helpers.js';
import { finished, spawnCli, tempDir, tinyFashionMnist } from './train_helpers.js';

const TRAIN_IMAGES = 64;
const BATCH = 2;

let longEpoch = '';
let longVal = '';

before(() => {
  longEpoch = tinyFashionMnist(TRAIN_IMAGES, 2);
  longVal = tinyFashionMnist(BATCH, 120);
});

function stepsLogged(run: string): number {
  const p = join(run, 'metrics.jsonl');
  if (!existsSync(p)) return 0;
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"step"')).length;
}

function hasEpochRecord(run: string): boolean {
  const p = join(run, 'metrics.jsonl');
  return existsSync(p) && readFileSync(p, 'utf8').includes('"type":"epoch"');
}

/** Starts a one-epoch run, sends `signal` once `ready` holds, and returns its result and checkpoint. */
async function interrupt(
  data: string,
  extra: string[],
  signal: 'SIGINT' | 'SIGTERM',
  ready: (run: string) => boolean,
): Promise<{ run: string; code: number | null; stdout: string; stderr: string; meta: { epoch: number; batch: number; step: number } }> {
  const run = join(tempDir('signal'), 'run');
  const args = ['train', '--dataset', `fashion-mnist=${data}`, '--arch', 'alexnet-v1', '--input-size', '65'];
  const child = spawnCli([...args, '--batch-size', String(BATCH), '--epochs', '1', '--seed', '3', '--out', run, ...extra]);
  const done = finished(child);
  let exited = false;
  void done.then(() => (exited = true));
  const deadline = Date.now() + 120_000;
  while (!ready(run)) {
    if (exited) assert.fail(`the run ended before the signal:\n${(await done).stderr}`);
    assert.ok(Date.now() < deadline, 'the run stalled before the signal');
    await sleep(10);
  }
  const sent = Date.now();
  child.kill(signal);
  const r = await done;
  const ckpt = join(run, 'checkpoints', 'last.ckpt');
  assert.ok(existsSync(ckpt), `no checkpoint after ${signal} (exit ${r.code}, ${Date.now() - sent} ms):\n${r.stdout}\n${r.stderr}`);
  return { run, ...r, meta: readCheckpoint<{ epoch: number; batch: number; step: number }>(ckpt).meta };
}

const total = TRAIN_IMAGES / BATCH;

for (const backend of ['reference', 'native', 'wasm'] as const) {
  // wasm: once, with loader worker threads beside the backend's own.
  for (const workers of backend === 'wasm' ? ['2'] : ['0', '2']) {
    const signal = backend === 'native' && workers === '2' ? 'SIGTERM' : 'SIGINT';
    test(
      `${signal} in the middle of an epoch (${backend} backend, --workers ${workers}): checkpoint and exit 130 within one step`,
      { skip: backend === 'native' ? nativeSkip : false, timeout: 180_000 },
      async () => {
        const r = await interrupt(longEpoch, ['--backend', backend, '--workers', workers], signal, (run) => stepsLogged(run) >= 2);
        assert.equal(r.code, 130, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`interrupted by ${signal}: checkpoint written to .*last\\.ckpt \\(epoch 1, batch \\d+\\)`));
        assert.equal(r.meta.epoch, 0, 'the checkpoint is from inside epoch 1');
        // Within one step of the signal (allowing for steps already under way): far from the epoch's end.
        assert.ok(r.meta.batch < total / 2, `stopped at batch ${r.meta.batch} of ${total}`);
        assert.ok(!hasEpochRecord(r.run), 'the epoch was finished instead of being interrupted');
        assert.match(r.stderr, new RegExp(`${signal} received`));
      },
    );
  }
}

test('SIGINT during the validation pass stops it within one batch, with a checkpoint and exit 130', { timeout: 180_000 }, async () => {
  // One training step, then 120 validation images in batches of 2: signal once the step is logged.
  const r = await interrupt(longVal, ['--backend', 'reference', '--workers', '0'], 'SIGINT', (run) => stepsLogged(run) >= 1);
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.match(r.stdout, /interrupted by SIGINT: checkpoint written/);
  assert.ok(!hasEpochRecord(r.run), 'the validation pass ran to its end');
  assert.equal(r.meta.step, 1);
});
