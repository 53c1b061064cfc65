// --parallel hybrid without an MPI job (its runs under mpirun, the losses and the checkpoints, are
// in distributed_train.test.ts): the split of units over ranks, uneven ones too, and the padded
// blocks the collectives move; --parallel outside MPI, and FC8 narrower than the job, are refused
// with one line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../src/errors.js';
import { checkHybridWidths, UnitSplit } from '../src/distributed/unit_split.js';
import { runCli } from './train_helpers.js';

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
