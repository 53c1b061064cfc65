// One run per run directory: a second `alexnet train --out DIR` (or `--resume DIR`) started while
// the first runs fails at once with one line naming the directory and the holder's pid (exit 1),
// the lock goes away when the run ends, and a stale lock (its pid gone) is taken over with a note.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { finished, runCli, smallRunArgs, spawnCli, tempDir, tinyFashionMnist } from './train_helpers.js';

test('a second run on the same directory fails at once; the lock is released at exit', { timeout: 180_000 }, async () => {
  const data = tinyFashionMnist(64, 2);
  const run = join(tempDir('lock'), 'run');
  const lock = join(run, 'run.lock');
  const first = spawnCli(smallRunArgs(data, run, ['--epochs', '1', '--batch-size', '2']));
  const done = finished(first);
  const deadline = Date.now() + 120_000;
  while (!existsSync(join(run, 'metrics.jsonl')) || !readFileSync(join(run, 'metrics.jsonl'), 'utf8').includes('"step"')) {
    assert.ok(Date.now() < deadline, 'the first run did not start');
    await sleep(20);
  }
  assert.equal(readFileSync(lock, 'utf8').trim(), String(first.pid));
  for (const args of [smallRunArgs(data, run, ['--epochs', '1']), ['train', '--resume', run]]) {
    const t0 = Date.now();
    const second = runCli(args);
    assert.equal(second.status, 1, second.stdout + second.stderr);
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.ok(lines[0]?.includes(run), lines[0]);
    assert.match(second.stderr, new RegExp(`in use by another alexnet train \\(pid ${first.pid}\\b`));
    assert.ok(Date.now() - t0 < 30_000, 'the second run did not fail at once');
  }
  first.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.ok(!existsSync(lock), 'the lock outlived its run');
  assert.doesNotMatch(r.stdout, /epoch 1\/1: train loss/, 'the second run interfered with the first');
});

test('a stale lock (its process is gone) is taken over with a note', { timeout: 180_000 }, () => {
  const data = tinyFashionMnist(4, 2);
  const run = join(tempDir('stale'), 'run');
  const first = runCli(smallRunArgs(data, run, ['--epochs', '1']));
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  assert.ok(gone);
  writeFileSync(join(run, 'run.lock'), `${gone}\n`);
  const resumed = runCli(['train', '--resume', run, '--epochs', '2']);
  assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`taking over the stale lock .*run\\.lock \\(pid ${gone} is not running\\)`));
  assert.ok(!existsSync(join(run, 'run.lock')));
});
