// Resuming from a checkpoint whose SHA-256 is valid but whose meta was not written by this program
// (a field missing, of the wrong type, out of range, or a path out of the run directory) stops with
// one line naming the file and the field (exit 1), never a TypeError from deep in the trainer; the
// run's own checkpoint still resumes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeCheckpoint, encodeCheckpoint } from '../src/train/checkpoint.js';
import { runCli, smallRunArgs, tempDir, tinyFashionMnist } from './train_helpers.js';

type Meta = Record<string, unknown>;

test('a checksummed checkpoint with a crafted meta is one line naming the field, exit 1', { timeout: 240_000 }, () => {
  const data = tinyFashionMnist(16, 4);
  const run = join(tempDir('resume-meta'), 'run');
  const first = runCli(smallRunArgs(data, run, ['--epochs', '2', '--max-steps', '1']));
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const path = join(run, 'checkpoints', 'last.ckpt');
  const original = decodeCheckpoint<Meta>(readFileSync(path), path);

  const cases: [string, (m: Meta) => void, RegExp][] = [
    ['kind', (m) => (m.kind = 'something-else'), /is not a training checkpoint/],
    ['optimizer null', (m) => (m.optimizer = null), /meta\.optimizer must be an object/],
    ['buffers', (m) => ((m.optimizer as Meta).buffers = 'yes'), /meta\.optimizer\.buffers must be a list/],
    ['negative epoch', (m) => (m.epoch = -1), /meta\.epoch -1 is out of range/],
    ['rng state', (m) => ((m.rng as Meta).default = { s: [1, 2], spare: null }), /meta\.rng\.default\.s must be a list of 4 numbers/],
    ['scheduler', (m) => (m.scheduler = { type: 'cosine' }), /meta\.scheduler\.type must be/],
    ['config lr', (m) => ((m.config as Meta).lr = -5), /meta\.config\.lr expected a non-negative number, got '-5'/],
    ['config batch size type', (m) => ((m.config as Meta).batchSize = '64'), /meta\.config\.batchSize must be a number/],
    ['config arch', (m) => ((m.config as Meta).arch = 'vgg'), /meta\.config\.arch unknown architecture 'vgg'/],
    ['config recipe', (m) => ((m.config as Meta).recipe = 'mine'), /meta\.config\.recipe must be one of/],
    [
      'mean image outside the run',
      (m) => ((m.config as Meta).meanImageFile = '../../etc/passwd'),
      /meta\.config\.meanImageFile '\.\.\/\.\.\/etc\/passwd' is outside/,
    ],
    [
      'transform size',
      (m) => ((m.config as Meta).evalTransforms = [{ type: 'resize', size: 60000 }]),
      /evalTransforms\[0\]\.size 60000 is out of range/,
    ],
  ];
  for (const [what, mutate, message] of cases) {
    const meta = structuredClone(original.meta);
    mutate(meta);
    writeFileSync(path, Buffer.concat(encodeCheckpoint(meta, original.tensors)));
    const r = runCli(['train', '--resume', run]);
    const lines = r.stderr.trim().split('\n');
    assert.equal(r.status, 1, `${what}: exit ${r.status}\n${r.stderr}`);
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
    assert.ok(lines[0]?.includes(path), `${what}: ${lines[0]}`);
    assert.match(lines[0] ?? '', message, what);
  }

  // The run's own checkpoint, written back unchanged, passes the checks (the run is complete and says so).
  writeFileSync(path, Buffer.concat(encodeCheckpoint(original.meta, original.tensors)));
  const resumed = runCli(['train', '--resume', run, '--max-steps', '2']);
  assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
});
