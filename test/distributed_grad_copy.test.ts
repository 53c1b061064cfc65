// The copy-free path of the gradient buckets (grad_reducer.ts): Backend.readInto copies a storage's
// elements into a given array at an offset, exactly what toArray gives, for plain and (native)
// oneDNN-blocked storages, and refuses a range outside the array with a ShapeError naming it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, Shape, Storage } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import { ShapeError } from '../src/errors.js';
import { native, randomArray, reference, size, skip } from './native_helpers.js';

function checkReadInto(backend: Backend, s: Storage, shape: Shape): void {
  const n = size(shape);
  const dst = new Float32Array(n + 7).fill(-1);
  backend.readInto?.(s, shape, dst, 5);
  assert.deepEqual(dst.subarray(5, 5 + n), backend.toArray(s, shape));
  assert.deepEqual([...dst.subarray(0, 5), ...dst.subarray(5 + n)], [-1, -1, -1, -1, -1, -1, -1], 'nothing outside the range');
  assert.throws(
    () => backend.readInto?.(s, shape, dst, 8),
    (e: unknown) => e instanceof ShapeError && /readInto: \[.*\] \(\d+ elements\) at offset 8 does not fit in \d+ elements/.test(e.message),
  );
}

test('readInto (reference): the elements at an offset of a given array', () => {
  const shape: Shape = [3, 4, 5];
  assert.ok(reference.readInto, 'the reference backend has readInto');
  checkReadInto(reference, reference.fromArray(randomArray(size(shape), 1), shape), shape);
});

test('readInto (native): plain and oneDNN-blocked storages read as toArray reads them', { skip }, () => {
  const nb = native!;
  assert.ok(nb.readInto, 'the native backend has readInto');
  const plain: Shape = [7, 13];
  checkReadInto(nb, nb.fromArray(randomArray(size(plain), 2), plain), plain);
  const xs: Shape = [2, 8, 8, 8];
  const ws: Shape = [32, 8, 3, 3];
  const y = nb.conv2d(
    nb.fromArray(randomArray(size(xs), 3), xs),
    nb.fromArray(randomArray(size(ws), 4, 0.3), ws),
    null,
    convGeometry(xs, ws, [1, 1], [1, 1], 1),
    false,
  );
  assert.equal(nb.layoutOf(y), 'blocked');
  checkReadInto(nb, y, [2, 32, 8, 8]);
});
