// .npy reader/writer: numpy-written fixtures (C, Fortran, big-endian, every dtype), round trips
// through our writer, and clear errors for bad magic, headers and sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeNpy, parseNpy, readNpy } from '../src/io/npy.js';
import { DataError } from '../src/errors.js';

const dir = fileURLToPath(new URL('../../test/fixtures/io/npy/', import.meta.url));
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as Record<string, { shape: number[]; data: number[] }>;

test('float32 C, Fortran and big-endian files read to the same C-order values', () => {
  for (const name of ['f4_c', 'f4_fortran', 'f4_big_endian']) {
    const arr = readNpy(dir + name + '.npy');
    assert.equal(arr.dtype, 'float32', name);
    assert.deepEqual(arr.shape, [2, 3, 4], name);
    assert.deepEqual(Array.from(arr.data as Float32Array), expected.f4_c!.data, name);
  }
});

test('float64 Fortran 2-D reads transposed to C order', () => {
  const arr = readNpy(dir + 'f8_fortran_2d.npy');
  assert.equal(arr.dtype, 'float64');
  assert.deepEqual(arr.shape, [3, 5]);
  assert.deepEqual(Array.from(arr.data as Float64Array), expected.f8_fortran_2d!.data);
});

test('integer dtypes, scalars and empty arrays', () => {
  const i8 = readNpy(dir + 'i8.npy');
  assert.equal(i8.dtype, 'int64');
  assert.deepEqual(Array.from(i8.data as BigInt64Array), [-3n, 0n, 2n ** 40n, 7n]);
  const i4 = readNpy(dir + 'i4.npy');
  assert.equal(i4.dtype, 'int32');
  assert.deepEqual(i4.shape, [3, 4]);
  assert.deepEqual(
    Array.from(i4.data as Int32Array),
    Array.from({ length: 12 }, (_, i) => i - 4),
  );
  const u1 = readNpy(dir + 'u1.npy');
  assert.equal(u1.dtype, 'uint8');
  assert.deepEqual(Array.from(u1.data as Uint8Array), [250, 251, 252, 253, 254, 255]);
  const sc = readNpy(dir + 'scalar_f8.npy');
  assert.deepEqual(sc.shape, []);
  assert.deepEqual(Array.from(sc.data as Float64Array), [2.5]);
  const empty = readNpy(dir + 'empty_f4.npy');
  assert.deepEqual(empty.shape, [0, 3]);
  assert.equal(empty.data.length, 0);
});

test('writer output is byte-identical to numpy for C-order little-endian arrays', () => {
  const a = readNpy(dir + 'f4_c.npy');
  assert.deepEqual(Buffer.from(encodeNpy(a.data, a.shape)), readFileSync(dir + 'f4_c.npy'));
  const i8 = readNpy(dir + 'i8.npy');
  assert.deepEqual(Buffer.from(encodeNpy(i8.data, i8.shape)), readFileSync(dir + 'i8.npy'));
  const u1 = readNpy(dir + 'u1.npy');
  assert.deepEqual(Buffer.from(encodeNpy(u1.data, u1.shape)), readFileSync(dir + 'u1.npy'));
});

test('round trip of every dtype', () => {
  const cases = [
    new Float32Array([1.5, -2, 3]),
    new Float64Array([Math.PI, -0, 1e300]),
    new BigInt64Array([-1n, 2n ** 62n, 5n]),
    new Int32Array([-7, 0, 7]),
    new Uint8Array([0, 128, 255]),
  ];
  for (const data of cases) {
    const back = parseNpy(encodeNpy(data, [1, 3]));
    assert.deepEqual(back.shape, [1, 3]);
    assert.deepEqual(back.data, data);
  }
});

test('bad magic, header and sizes are DataErrors that name the file', () => {
  const good = readFileSync(dir + 'f4_c.npy');
  assert.throws(
    () => parseNpy(Buffer.from('hello world'), 'x.npy'),
    (e: Error) => e instanceof DataError && /x\.npy: not a \.npy/.test(e.message),
  );
  assert.throws(
    () => parseNpy(good.subarray(0, good.length - 1), 'cut.npy'),
    (e: Error) => e instanceof DataError && /cut\.npy.*truncated/.test(e.message),
  );
  assert.throws(
    () => parseNpy(good.subarray(0, 30), 'hdr.npy'),
    (e: Error) => e instanceof DataError && /hdr\.npy/.test(e.message),
  );
  const bad = Buffer.from(good);
  bad.write("'<c8'", good.indexOf("'<f4'"), 'latin1');
  assert.throws(() => parseNpy(bad, 'c8.npy'), /c8\.npy: unsupported \.npy dtype '<c8'/);
  const huge = Buffer.from(good);
  huge.write('(9999999999, 3, 4)', good.indexOf('(2, 3, 4)'), 'latin1');
  assert.throws(
    () => parseNpy(huge, 'huge.npy'),
    (e: Error) => e instanceof DataError && /huge\.npy/.test(e.message),
  );
  assert.throws(
    () => readNpy(dir + 'does-not-exist.npy'),
    (e: Error) => e instanceof DataError && /does-not-exist\.npy: cannot read/.test(e.message),
  );
});

test('an empty array whose zero dimension is not the first, (1, 3, 0, 0), is read, not reported as truncated', () => {
  for (const shape of [
    [1, 3, 0, 0],
    [2, 0],
    [5, 0, 7],
  ]) {
    const arr = parseNpy(encodeNpy(new Float32Array(0), shape), 'empty.npy');
    assert.deepEqual(arr.shape, shape);
    assert.equal(arr.data.length, 0);
  }
  // An empty shape with data bytes after it is still a size mismatch.
  const bytes = encodeNpy(new Float32Array(0), [1, 3, 0, 0]);
  const extra = new Uint8Array(bytes.length + 4);
  extra.set(bytes);
  assert.throws(
    () => parseNpy(extra, 'extra.npy'),
    (e: unknown) => e instanceof DataError && /extra\.npy: .*needs 0 bytes, file holds 4/.test(e.message),
  );
});
