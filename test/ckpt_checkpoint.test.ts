// Checkpoints whose SHA-256 is valid but whose header lies (negative sizes, offsets into the
// header, a null meta) are refused with a DataError naming the file and the field, and the best
// checkpoint of a run is a file of its own, not a second name for the last one.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { statSync, truncateSync } from 'node:fs';
import { test } from 'node:test';
import { DataError } from '../src/errors.js';
import { CheckpointStore, decodeCheckpoint, readCheckpoint } from '../src/train/checkpoint.js';
import { tempDir } from './train_helpers.js';

/** Checkpoint bytes for any header and data, with a correct checksum (what a buggy or hostile writer makes). */
function craft(header: unknown, data: Float32Array = new Float32Array(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const dataStart = Math.ceil((12 + json.length) / 64) * 64;
  const head = Buffer.alloc(dataStart);
  head.write('ALXCKPT1', 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  const body = Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  const digest = createHash('sha256').update(body).digest();
  return Buffer.concat([body, digest, Buffer.from('ALXCKEND', 'latin1')]);
}

const entry = (name: string, shape: unknown, offset: unknown) => ({ name, shape, offset });

test('a checksummed checkpoint with a lying header is a DataError naming the file and the field', () => {
  const four = Float32Array.from([1, 2, 3, 4]);
  const cases: [string, unknown, RegExp][] = [
    ['negative dimension', { version: 1, tensors: [entry('w', [-1], 0)], meta: {} }, /ck\.bin: tensor 'w': shape \[-1\]/],
    ['fractional dimension', { version: 1, tensors: [entry('w', [1.5], 0)], meta: {} }, /ck\.bin: tensor 'w': shape/],
    ['shape not a list', { version: 1, tensors: [entry('w', 'x', 0)], meta: {} }, /ck\.bin: tensor 'w': shape/],
    [
      'negative offset (header bytes as weights)',
      { version: 1, tensors: [entry('w', [4], -64)], meta: {} },
      /ck\.bin: tensor 'w': offset -64/,
    ],
    ['offset past the data', { version: 1, tensors: [entry('w', [4], 16)], meta: {} }, /ck\.bin: tensor 'w': offset 16/],
    ['data not covered', { version: 1, tensors: [entry('w', [2], 0)], meta: {} }, /ck\.bin: .*16 bytes of tensor data, the tensors use 8/],
    ['name missing', { version: 1, tensors: [{ shape: [4], offset: 0 }], meta: {} }, /ck\.bin: tensor entry 0: name/],
    ['name repeated', { version: 1, tensors: [entry('w', [2], 0), entry('w', [2], 8)], meta: {} }, /ck\.bin: tensor 'w' appears twice/],
    ['entry not an object', { version: 1, tensors: [null], meta: {} }, /ck\.bin: tensor entry 0 is not an object/],
    ['meta null', { version: 1, tensors: [entry('w', [4], 0)], meta: null }, /ck\.bin: checkpoint field 'meta' is not an object/],
    ['meta a list', { version: 1, tensors: [entry('w', [4], 0)], meta: [1] }, /ck\.bin: checkpoint field 'meta' is not an object/],
    ['tensors not a list', { version: 1, tensors: {}, meta: {} }, /ck\.bin: checkpoint field 'tensors' is not a list/],
    ['header not an object', [1, 2], /ck\.bin: .*header is not an object/],
  ];
  for (const [what, header, message] of cases) {
    assert.throws(
      () => decodeCheckpoint(craft(header, four), 'ck.bin'),
      (err: Error) => {
        assert.ok(err instanceof DataError, `${what}: ${err.name}: ${err.message}`);
        assert.match(err.message, message, what);
        return true;
      },
    );
  }
  // A header length pointing past the end of the file.
  const bad = craft({ version: 1, tensors: [], meta: {} });
  bad.writeUInt32LE(1 << 30, 8);
  const fixed = Buffer.concat([
    bad.subarray(0, bad.length - 40),
    createHash('sha256')
      .update(bad.subarray(0, bad.length - 40))
      .digest(),
    Buffer.from('ALXCKEND'),
  ]);
  assert.throws(() => decodeCheckpoint(fixed, 'ck.bin'), /ck\.bin: .*header length/);
  // The honest version of the same file is read.
  const ok = decodeCheckpoint<object>(craft({ version: 1, tensors: [entry('w', [2, 2], 0)], meta: {} }, four), 'ck.bin');
  assert.deepEqual([...ok.tensors.get('w')!.data], [1, 2, 3, 4]);
});

test('best.ckpt is its own file: a damaged last.ckpt leaves it loadable', () => {
  const dir = tempDir('ckbest');
  const store = new CheckpointStore(dir);
  const tensors = new Map([['model/w', { shape: [3], data: Float32Array.from([1, 2, 3]) }]]);
  store.saveLast({ epoch: 1 }, tensors);
  store.markLastAsBest();
  assert.notEqual(statSync(store.bestPath).ino, statSync(store.lastPath).ino, 'best and last share one inode');
  assert.equal(readCheckpoint<{ epoch: number }>(store.bestPath).meta.epoch, 1);
  assert.equal(readCheckpoint<{ epoch: number }>(store.lastPath).meta.epoch, 1);
  truncateSync(store.lastPath, 100);
  assert.equal(readCheckpoint<{ epoch: number }>(store.bestPath).meta.epoch, 1);
});
