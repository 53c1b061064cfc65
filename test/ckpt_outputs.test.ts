// Output files of forward, convert and eval: a directory, a missing folder or a full device is one
// DataError line; the path is checked before any work (a missing weights file is not even
// opened), and writes are atomic (no temporary file left behind).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { runCli, tempDir } from './train_helpers.js';
import { smallV1Pth } from './ckpt_fixtures.js';

const dir = tempDir('outputs');
const weights = smallV1Pth(dir);
const input = join(dir, 'x.npy');
writeNpy(input, new Float32Array(2 * 65 * 65), [2, 1, 65, 65]);
const outDir = join(dir, 'out');
mkdirSync(outDir);
const missingWeights = join(dir, 'never-read.pth');

function assertOneLine(r: { status: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

test('forward --output: a directory or a missing folder is reported before the weights are read', () => {
  const forward = (w: string, output: string) => runCli(['forward', '--weights', w, '--input', input, '--output', output]);
  assertOneLine(forward(missingWeights, outDir), /out: is a directory, not a file/);
  assertOneLine(forward(missingWeights, join(dir, 'nowhere', 'y.npy')), /nowhere\/y\.npy: the folder .*nowhere does not exist/);
  assertOneLine(forward(weights, '/dev/full'), /\/dev\/full: cannot write \(ENOSPC/);
  const ok = forward(weights, join(outDir, 'y.npy'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readNpy(join(outDir, 'y.npy')).shape, [2, 10]);
  assert.deepEqual(readdirSync(outDir), ['y.npy']);
});

test('convert: the output is checked before reading and written atomically', () => {
  mkdirSync(join(dir, 'a.safetensors'));
  assertOneLine(runCli(['convert', missingWeights, join(dir, 'a.safetensors')]), /a\.safetensors: is a directory, not a file/);
  assertOneLine(runCli(['convert', missingWeights, join(dir, 'nowhere', 'b.pth')]), /nowhere\/b\.pth: the folder .*nowhere does not exist/);
  const conv = join(dir, 'conv');
  mkdirSync(conv);
  const ok = runCli(['convert', weights, join(conv, 'w.safetensors')]);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readdirSync(conv), ['w.safetensors']);
});

test('eval --out: a file in the way is reported before evaluating', () => {
  const file = join(dir, 'not-a-folder');
  writeFileSync(file, 'x');
  const r = runCli(['eval', '--weights', missingWeights, '--dataset', `fashion-mnist=${dir}`, '--out', file]);
  assertOneLine(r, /not-a-folder: exists and is not a folder/);
  assert.ok(!existsSync(join(file, 'eval.json')));
});
