// .pth reader/writer on files written by PyTorch 1.13 (scripts/make_io_fixtures.py): zip and
// legacy containers, protocol 2 and 4, strides/offsets/shared/expanded storages, half/bf16/double
// conversion, checkpoint nesting; writer round trips; malicious pickles refused without running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/errors.js';
import { encodePth, parsePth, readPth, writePth } from '../src/io/pth/index.js';
import { ZipReader } from '../src/io/pth/zip.js';

const dir = fileURLToPath(new URL('../../test/fixtures/io/pth/', import.meta.url));
type Expected = Record<string, { shape: number[]; data: number[] }>;
const expected = JSON.parse(readFileSync(dir + 'expected.json', 'utf8')) as { state: Expected; checkpoint: Expected; marker: string };

function assertMatches(got: ReturnType<typeof readPth>, want: Expected, label: string): void {
  assert.deepEqual([...got.keys()], Object.keys(want), `${label}: keys`);
  for (const [k, w] of Object.entries(want)) {
    const t = got.get(k)!;
    assert.deepEqual(t.shape, w.shape, `${label}: shape of ${k}`);
    // Values are float32 in both (torch converted with .float()), so equality is exact.
    assert.deepEqual(Array.from(t.data), w.data, `${label}: values of ${k}`);
  }
}

for (const file of ['state_zip.pth', 'state_legacy.pth', 'state_zip_proto4.pth']) {
  test(`${file}: every tensor equals torch's values`, () => {
    const got = readPth(dir + file);
    assertMatches(got, expected.state, file);
    assert.equal(got.get('half')!.sourceDType, 'float16');
    assert.equal(got.get('bf16')!.sourceDType, 'bfloat16');
    assert.equal(got.get('double')!.sourceDType, 'float64');
  });
}

test('containers are detected: zip and legacy', () => {
  assert.equal(parsePth(dir + 'state_zip.pth').format, 'zip');
  assert.equal(parsePth(dir + 'state_legacy.pth').format, 'legacy');
});

test('checkpoint dicts: state dict found under state_dict, and nested under model.state_dict', () => {
  assertMatches(readPth(dir + 'checkpoint_zip.pth'), expected.checkpoint, 'checkpoint_zip');
  assertMatches(readPth(dir + 'checkpoint_nested_legacy.pth'), expected.checkpoint, 'checkpoint_nested_legacy');
});

test('nn.Parameter values (_rebuild_parameter) read like tensors', () => {
  assertMatches(readPth(dir + 'parameters_zip.pth'), expected.checkpoint, 'parameters_zip');
});

test('malicious pickles are refused, naming the global, and nothing runs', () => {
  rmSync(expected.marker, { force: true });
  const cases: [string, RegExp][] = [
    ['malicious_system_zip.pth', /refused global 'posix\.system'/],
    ['malicious_system_legacy.pth', /refused global 'posix\.system'/],
    ['malicious_eval_zip.pth', /refused global '(__builtin__|builtins)\.eval'/],
  ];
  for (const [file, re] of cases) {
    assert.throws(
      () => readPth(dir + file),
      (e: Error) => e instanceof DataError && re.test(e.message) && e.message.includes(file),
      file,
    );
  }
  assert.equal(existsSync(expected.marker), false, 'the payload must not have run');
});

test('writer round trip: our file reads back identically, 64-byte aligned, with version and byteorder', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'alexnet-io-'));
  try {
    const src = readPth(dir + 'state_zip.pth');
    const path = join(tmp, 'out.pth');
    writePth(path, src);
    const back = readPth(path);
    assert.deepEqual([...back.keys()], [...src.keys()]);
    for (const [k, t] of src) {
      assert.deepEqual(back.get(k)!.shape, t.shape, k);
      assert.deepEqual(back.get(k)!.data, t.data, k);
    }
    const zip = new ZipReader(readFileSync(path), path);
    assert.deepEqual(
      zip.names.filter((n) => !n.startsWith('archive/data/')),
      ['archive/data.pkl', 'archive/byteorder', 'archive/version'],
    );
    for (const n of zip.names) assert.equal(zip.entries.get(n)!.dataOffset % 64, 0, `${n} aligned`);
    assert.equal(new TextDecoder().decode(zip.read('archive/version')), '3\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('empty state dict and no-state-dict files', () => {
  const chunks = encodePth(new Map());
  const buf = Buffer.concat(chunks);
  assert.throws(() => readPth(buf, 'empty.pth'), /empty\.pth: no state dict found/);
});

test('corrupted storage data is caught by the zip CRC; truncation names the file', () => {
  const good = readFileSync(dir + 'state_zip.pth');
  const zip = new ZipReader(good, 'x');
  const entry = zip.entries.get(zip.names.find((n) => n.includes('/data/'))!)!;
  const bad = Buffer.from(good);
  bad[entry.dataOffset]! ^= 0xff;
  assert.throws(() => readPth(bad, 'flipped.pth'), /flipped\.pth: corrupt zip archive: CRC-32 mismatch/);
  assert.throws(
    () => readPth(good.subarray(0, good.length - 30), 'cut.pth'),
    (e: Error) => e instanceof DataError && e.message.startsWith('cut.pth:'),
  );
  const legacy = readFileSync(dir + 'state_legacy.pth');
  assert.throws(() => readPth(legacy.subarray(0, legacy.length - 3), 'cut_legacy.pth'), /cut_legacy\.pth: .*truncated/);
});
