// Interrupting and resuming training (reference backend; the native one at the end): SIGINT finishes the step, writes a
// checkpoint and exits 130, and the resumed run's losses equal the uninterrupted run's bit for
// bit; SIGKILL at random moments (20 times, half of them while a checkpoint is being written,
// slowed down by ALEXNET_CHECKPOINT_SLOW_MS; checkpoints after every step so that kills land in
// and between writes quickly) never leaves an unreadable checkpoint or loses a completed epoch,
// and the run still completes with the same losses.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { nativeBf16, skip as nativeSkip } from './native_helpers.js';
import { finished, runCli, smallRunArgs, spawnCli, tempDir, tinyFashionMnist } from './train_helpers.js';

interface Rec {
  type: 'step' | 'epoch';
  step: number;
  epoch: number;
  loss?: number;
  train_loss?: number;
  val_loss?: number;
}

function records(run: string): Rec[] {
  const p = join(run, 'metrics.jsonl');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Rec];
      } catch {
        return []; // a line cut by the kill
      }
    });
}

const stepLosses = (run: string): number[] =>
  records(run)
    .filter((r) => r.type === 'step')
    .map((r) => r.loss as number);

let data = '';
let baseline: number[] = [];
let baselineEpochs: Rec[] = [];

before(() => {
  data = tinyFashionMnist(8, 2);
  const run = join(tempDir('base'), 'run');
  const r = runCli(smallRunArgs(data, run, ['--epochs', '3']));
  assert.equal(r.status, 0, r.stdout + r.stderr);
  baseline = stepLosses(run);
  baselineEpochs = records(run).filter((x) => x.type === 'epoch');
  assert.equal(baseline.length, 6);
});

test('SIGINT finishes the step, checkpoints, exits 130; resuming gives the same losses bit for bit', async () => {
  const run = join(tempDir('sigint'), 'run');
  const child = spawnCli(smallRunArgs(data, run, ['--epochs', '3']));
  const done = finished(child);
  // Interrupt in the middle of epoch 2 (after its first step).
  const deadline = Date.now() + 120_000;
  while (!records(run).some((r) => r.type === 'step' && r.step === 3)) {
    assert.ok(Date.now() < deadline, 'training did not reach step 3');
    await sleep(25);
  }
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.match(r.stdout, /interrupted by SIGINT.*: checkpoint written/);
  const ck = readCheckpoint<{ step: number; epoch: number; batch: number }>(join(run, 'checkpoints', 'last.ckpt'));
  assert.ok(ck.meta.step >= 3, `checkpoint at step ${ck.meta.step}`);
  const resumed = runCli(['train', '--resume', run]);
  assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /resuming .* at epoch \d, batch \d \(step \d\)/);
  assert.deepEqual(stepLosses(run), baseline, 'per-step losses differ from the uninterrupted run');
  const epochs = records(run).filter((x) => x.type === 'epoch');
  assert.deepEqual(
    epochs.map((e) => [e.epoch, e.train_loss, e.val_loss]),
    baselineEpochs.map((e) => [e.epoch, e.train_loss, e.val_loss]),
  );
  assert.ok(existsSync(join(run, 'summary.json')));
});

test('SIGKILL 20 times (also while writing checkpoints): checkpoints stay readable, no epoch is lost, the run completes', async () => {
  const run = join(tempDir('sigkill'), 'run');
  const ckDir = join(run, 'checkpoints');
  const env = { ALEXNET_CHECKPOINT_SLOW_MS: '25' };
  let lastEpoch = 0;
  let lastStep = 0;
  let duringWrite = 0;
  const history: string[] = [];
  let rng = 12345;
  const random = (): number => {
    rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
    return rng / 4294967296;
  };
  for (let kill = 0; kill < 20; kill++) {
    const resume = existsSync(join(ckDir, 'last.ckpt'));
    const child = spawnCli(
      resume ? ['train', '--resume', run] : smallRunArgs(data, run, ['--epochs', '40', '--checkpoint-every', '1']),
      env,
    );
    const done = finished(child);
    const started = Date.now();
    let exited = false;
    void done.then(() => (exited = true));
    if (kill % 2 === 0) {
      // Kill while a checkpoint is being written, soon after its temporary file shows up; one
      // checkpoint goes through first, so that the run makes progress.
      const deadline = Date.now() + 60_000;
      let writes = 0;
      let writing = false;
      while (!exited && Date.now() < deadline) {
        const now = existsSync(ckDir) && readdirSync(ckDir).some((f) => /^last\.ckpt\.tmp-/.test(f));
        if (now && !writing && ++writes === 2) {
          await sleep(Math.floor(random() * 300));
          duringWrite++;
          break;
        }
        writing = now;
        await sleep(5);
      }
    } else {
      await sleep(500 + Math.floor(random() * 5000));
    }
    if (exited) assert.fail(`run ${kill} ended by itself after ${Date.now() - started} ms: ${(await done).stderr}`);
    child.kill('SIGKILL');
    const r = await done;
    history.push(`kill ${kill} (${kill % 2 === 0 ? 'during a write' : 'random'}) after ${Date.now() - started} ms`);
    assert.equal(
      r.signal,
      'SIGKILL',
      `run ${kill} ended with code ${r.code} after ${Date.now() - started} ms: ${r.stdout.slice(-400)}\n${r.stderr}\n${history.join('\n')}`,
    );
    // Every checkpoint on disk verifies; the newest holds every epoch the log reports as done.
    for (const f of ['last.ckpt', 'prev.ckpt', 'best.ckpt']) {
      const p = join(ckDir, f);
      if (existsSync(p)) assert.doesNotThrow(() => readCheckpoint(p), `${f} unreadable after kill ${kill}`);
    }
    if (existsSync(join(ckDir, 'last.ckpt'))) {
      const meta = readCheckpoint<{ epoch: number; step: number }>(join(ckDir, 'last.ckpt')).meta;
      const epoch = meta.epoch;
      lastStep = Math.max(lastStep, meta.step);
      const logged = Math.max(
        0,
        ...records(run)
          .filter((x) => x.type === 'epoch')
          .map((x) => x.epoch),
      );
      assert.ok(epoch >= logged, `kill ${kill}: checkpoint at epoch ${epoch}, log says ${logged} done`);
      assert.ok(epoch >= lastEpoch, `kill ${kill}: checkpoint went back from epoch ${lastEpoch} to ${epoch}`);
      lastEpoch = epoch;
    }
  }
  assert.ok(duringWrite >= 8, `only ${duringWrite} kills landed while a checkpoint was being written`);
  assert.ok(lastStep >= 3, `only ${lastStep} steps were checkpointed in 20 runs`);
  // Let it finish: one more epoch after the last checkpoint.
  const finish = runCli(['train', '--resume', run, '--epochs', String(lastEpoch + 1)]);
  assert.equal(finish.status, 0, finish.stdout + finish.stderr);
  const summary = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
  assert.equal(summary.epochs, lastEpoch + 1);
  const recs = records(run);
  assert.deepEqual(
    recs.filter((x) => x.type === 'epoch').map((x) => x.epoch),
    Array.from({ length: lastEpoch + 1 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    recs.filter((x) => x.type === 'step').map((x) => x.step),
    Array.from({ length: 2 * (lastEpoch + 1) }, (_, i) => i + 1),
  );
  // Killed and resumed many times, the losses are still those of the uninterrupted run.
  const n = Math.min(baseline.length, 2 * (lastEpoch + 1));
  assert.deepEqual(stepLosses(run).slice(0, n), baseline.slice(0, n));
});

// The native backend (oneDNN) computes the same thing the same way each run for a fixed thread
// count and CPU (its CPU kernels use no atomics or run-time races), so a resumed run repeats the
// uninterrupted one exactly there too; shown for f32 and, where the CPU has it, bf16.
for (const precision of ['f32', 'bf16'] as const) {
  const skip = nativeSkip || (precision === 'bf16' && !nativeBf16 ? 'no native bf16 on this CPU' : false);
  test(
    `native backend (${precision}, 2 threads): resuming after epoch 1 gives the uninterrupted run's losses bit for bit`,
    { skip },
    () => {
      const env = { ALEXNET_BACKEND: 'native', OMP_NUM_THREADS: '2', ALEXNET_NUM_THREADS: '2' };
      const args = (run: string, epochs: number): string[] =>
        smallRunArgs(data, run, ['--epochs', String(epochs), '--precision', precision]);
      const whole = join(tempDir(`native-${precision}`), 'whole');
      const r1 = runCli(args(whole, 3), env);
      assert.equal(r1.status, 0, r1.stdout + r1.stderr);
      assert.match(r1.stdout, new RegExp(`backend native, ${precision}`));
      const split = join(tempDir(`native-${precision}`), 'split');
      const r2 = runCli(args(split, 1), env);
      assert.equal(r2.status, 0, r2.stdout + r2.stderr);
      const r3 = runCli(['train', '--resume', split, '--epochs', '3'], env);
      assert.equal(r3.status, 0, r3.stdout + r3.stderr);
      assert.equal(stepLosses(whole).length, 6);
      assert.deepEqual(stepLosses(split), stepLosses(whole));
    },
  );
}
