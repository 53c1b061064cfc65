// safetensors reader/writer: a file laid out as the reference implementation writes it (F32,
// F16, BF16, F64, I64, metadata), round trips, and validation of offsets, overlaps and sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/errors.js';
import { encodeSafetensors, parseSafetensors, readSafetensors } from '../src/io/safetensors.js';

const dir = fileURLToPath(new URL('../../test/fixtures/io/safetensors/', import.meta.url));
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as {
  tensors: Record<string, { shape: number[]; data: number[] }>;
  metadata: Record<string, string>;
};

test('reads every dtype to torch-converted float32 values, and the metadata', () => {
  const { tensors, metadata } = readSafetensors(dir + 'basic.safetensors');
  assert.deepEqual(metadata, expected.metadata);
  assert.deepEqual([...tensors.keys()], Object.keys(expected.tensors));
  for (const [k, w] of Object.entries(expected.tensors)) {
    assert.deepEqual(tensors.get(k)!.shape, w.shape, k);
    assert.deepEqual(Array.from(tensors.get(k)!.data), w.data, k);
  }
});

test('round trip through the writer', () => {
  const { tensors } = readSafetensors(dir + 'basic.safetensors');
  const buf = Buffer.concat(encodeSafetensors(tensors, { note: 'x' }));
  assert.equal(Number(buf.readBigUInt64LE(0)) % 8, 0);
  const back = parseSafetensors(buf, 'rt');
  assert.deepEqual(back.metadata, { note: 'x' });
  for (const [k, t] of tensors) assert.deepEqual(back.tensors.get(k)!.data, t.data, k);
});

function fileWith(header: object, dataBytes: number): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, Buffer.alloc(dataBytes)]);
}

test('bad headers, offsets, overlaps, gaps and sizes are DataErrors naming the tensor', () => {
  const bad: [Buffer, RegExp][] = [
    [Buffer.alloc(4), /only 4 bytes/],
    [fileWith({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), /'a' data_offsets \[0, 8\] lie outside/],
    [fileWith({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /'a' of shape \[3\] F32 needs 12 bytes/],
    [
      fileWith({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8),
      /'b' overlaps/,
    ],
    [fileWith({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), /gap in the data section before tensor 'a'/],
    [fileWith({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8), /data section has 8 bytes, tensors use 4/],
    [fileWith({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), /'a' has unsupported dtype "C64"/],
    [fileWith({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /'a' has bad shape/],
    [fileWith([1, 2], 0), /not a JSON object/],
  ];
  for (const [buf, re] of bad) {
    assert.throws(
      () => parseSafetensors(buf, 'bad.safetensors'),
      (e: Error) => e instanceof DataError && e.message.startsWith('bad.safetensors: ') && re.test(e.message),
      String(re),
    );
  }
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(2n ** 60n);
  assert.throws(() => parseSafetensors(huge, 'h.safetensors'), /header length \d+ exceeds/);
});
