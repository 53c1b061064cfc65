// Weights streamed from a .pth into a model: a tensor's storage can be overwritten piece by piece
// on both backends (the native one dropping reorders cached from the old values), a lazily read
// file (.pth or .safetensors) loads the same values as an eager one, a model built with init 'none' draws nothing, and a
// flipped byte is still a CRC error naming the file when the entry is streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { DataError, ShapeError } from '../src/errors.js';
import { readPth, writePth } from '../src/io/pth/index.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { loadWeights, readWeightsFile } from '../src/io/weights.js';
import { createModel } from '../src/models/index.js';
import { Linear } from '../src/nn/linear.js';
import { conv2d } from '../src/ops/conv.js';
import { Tensor } from '../src/tensor.js';
import { native, skip } from './native_helpers.js';
import { tempDir } from './train_helpers.js';

const dir = tempDir('wstream');

const backends: [string, Backend | null][] = [
  ['reference', referenceBackend()],
  ['native', native],
];

for (const [name, backend] of backends) {
  test(
    `write overwrites part of a tensor in place on the ${name} backend; a range outside it is a ShapeError`,
    { skip: name === 'native' && skip },
    () => {
      const b = backend!;
      const x = Tensor.fromArray(new Float32Array(1 * 2 * 5 * 5).fill(1), [1, 2, 5, 5], { backend: b });
      const w = Tensor.fromArray(new Float32Array(3 * 2 * 3 * 3).fill(1), [3, 2, 3, 3], { backend: b });
      // A first convolution lets the native backend cache w in its own layout.
      assert.equal(conv2d(x, w, null).toArray()[0], 18);
      const storage = w.storage;
      w.write(0, new Float32Array(18).fill(2)); // the first filter
      w.write(30, new Float32Array([5, 6]));
      assert.equal(w.storage, storage);
      const values = Array.from(w.toArray());
      assert.deepEqual(values.slice(0, 18), new Array<number>(18).fill(2));
      assert.deepEqual(values.slice(28, 33), [1, 1, 5, 6, 1]);
      const y = conv2d(x, w, null).toArray();
      assert.equal(y[0], 36, 'the convolution sees the new values');
      assert.equal(y[9], 16 + 5 + 6);
      assert.equal(y[18], 18);
      for (const offset of [-1, 53, 1.5]) assert.throws(() => w.write(offset, new Float32Array(2)), ShapeError, String(offset));
    },
  );
}

test("init 'none' leaves every parameter zero", () => {
  setBackend('reference');
  const model = createModel('alexnet-v1', { numClasses: 3, inChannels: 1, inputSize: 67, init: 'none' });
  for (const [k, p] of model.stateDict())
    assert.ok(
      p.toArray().every((v) => v === 0),
      k,
    );
  assert.throws(() => createModel('alexnet', { init: 'nope' as 'none' }), /init must be one of pytorch, paper, xavier, got 'nope'/);
});

test('a .pth read lazily loads the same values as read eagerly; a flipped byte is a CRC error when streamed', () => {
  setBackend(referenceBackend());
  const values = new Float32Array(300_000).map((_, i) => (i % 101) / 7);
  const file = join(dir, 'w.pth');
  const model = new Linear(3000, 100);
  writePth(
    file,
    new Map([
      ['weight', { shape: [100, 3000], data: values }],
      ['bias', { shape: [100], data: values.subarray(0, 100) }],
    ]),
  );
  const lazy = readWeightsFile(file);
  assert.equal(lazy.get('weight')?.length, 300_000, 'left in the file');
  assert.deepEqual(lazy.get('weight')?.data, readPth(file).get('weight')?.data);
  loadWeights(model, file);
  assert.deepEqual(model.weight.toArray(), values);

  const bytes = readFileSync(file);
  const at = bytes.indexOf(Buffer.from(values.subarray(200_000, 200_004).buffer, values.byteOffset + 800_000, 16));
  assert.ok(at > 0);
  bytes[at] = bytes[at]! ^ 0xff;
  const flipped = join(dir, 'flipped.pth');
  writeFileSync(flipped, bytes);
  assert.throws(
    () => loadWeights(new Linear(3000, 100), flipped),
    (e: unknown) => e instanceof DataError && /flipped\.pth: corrupt zip archive: CRC-32 mismatch/.test(e.message),
  );
});

test('a .safetensors file read lazily loads the same values as read eagerly', () => {
  setBackend(referenceBackend());
  const values = new Float32Array(300_000).map((_, i) => (i % 89) / 3);
  const file = join(dir, 'w.safetensors');
  const tensors = new Map([
    ['weight', { shape: [100, 3000], data: values }],
    ['bias', { shape: [100], data: values.subarray(0, 100) }],
  ]);
  writeSafetensors(file, tensors);
  const lazy = readWeightsFile(file);
  assert.equal(lazy.get('weight')?.length, 300_000, 'left in the file');
  assert.deepEqual(lazy.get('weight')?.data, readSafetensors(file).tensors.get('weight')?.data);
  const model = new Linear(3000, 100);
  loadWeights(model, file);
  assert.deepEqual(model.weight.toArray(), values);
  assert.deepEqual(model.bias?.toArray(), values.subarray(0, 100));
});
