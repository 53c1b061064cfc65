// Reading a .pth file from disk: the zip is read at offsets, each float32 storage straight into
// its tensor, so the peak memory is about the tensors' size (not the file plus a copy); the
// checks still hold for data read that way (a flipped byte is a CRC error, a cut file an error
// naming the file). Writing fails cleanly: a DataError naming the file, no temporary file left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/errors.js';
import { parsePth, readPth, writePth } from '../src/io/pth/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';

const DIST = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const MB = 2 ** 20;

function tensors(n: number, seed: number): Map<string, { shape: number[]; data: Float32Array }> {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761 + seed) % 1000) / 997;
  return new Map([
    ['a.weight', { shape: [n / 4, 4], data }],
    ['a.bias', { shape: [3], data: new Float32Array([1, 2, seed]) }],
  ]);
}

test('a 96 MB .pth loads with peak memory near the tensors’ size, not the file plus a copy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-pth-mem-'));
  try {
    const file = join(dir, 'big.pth');
    writePth(file, tensors(24 * MB, 7));
    const script = `
      import { readPth } from ${JSON.stringify(join(DIST, 'src', 'io', 'pth', 'index.js'))};
      const before = process.memoryUsage().rss;
      const t = readPth(${JSON.stringify(file)});
      const w = t.get('a.weight');
      console.log(JSON.stringify({ n: w.data.length, x: w.data[12345], growthMB: (process.resourceUsage().maxRSS * 1024 - before) / 2 ** 20 }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { n: number; x: number; growthMB: number };
    assert.equal(got.n, 24 * MB);
    assert.equal(got.x, Math.fround(((12345 * 2654435761 + 7) % 1000) / 997));
    // The tensors are 96 MB; reading the file whole and copying out of it peaked at twice that.
    assert.ok(got.growthMB < 140, `peak RSS grew by ${got.growthMB.toFixed(0)} MB for 96 MB of tensors`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read from disk at offsets: same tensors as from a buffer; a flipped byte and a cut file are DataErrors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-pth-disk-'));
  try {
    const file = join(dir, 'w.pth');
    writePth(file, tensors(4096, 3));
    const fromDisk = readPth(file);
    const fromBuffer = readPth(readFileSync(file), 'w.pth');
    assert.deepEqual([...fromDisk.keys()], ['a.weight', 'a.bias']);
    for (const [k, t] of fromBuffer) assert.deepEqual(fromDisk.get(k)?.data, t.data, k);
    assert.equal(parsePth(file).format, 'zip');

    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from(new Float32Array([1, 2, 3]).buffer));
    assert.ok(at > 0);
    bytes[at + 1] = bytes[at + 1]! ^ 0xff;
    const flipped = join(dir, 'flipped.pth');
    writeFileSync(flipped, bytes);
    assert.throws(
      () => readPth(flipped),
      (e: unknown) => e instanceof DataError && /flipped\.pth: corrupt zip archive: CRC-32 mismatch/.test(e.message),
    );

    const cut = join(dir, 'cut.pth');
    writeFileSync(cut, readFileSync(file));
    truncateSync(cut, 5000);
    assert.throws(
      () => readPth(cut),
      (e: unknown) => e instanceof DataError && /cut\.pth: /.test(e.message),
    );
    assert.throws(
      () => readPth(join(dir, 'missing.pth')),
      (e: unknown) => e instanceof DataError && /missing\.pth: cannot read/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a .pth or .safetensors that cannot be written is a DataError naming it, and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alexnet-pth-write-'));
  try {
    const taken = join(dir, 'taken.pth');
    mkdirSync(join(taken, 'inside'), { recursive: true });
    for (const write of [() => writePth(taken, tensors(16, 1)), () => writeSafetensors(taken, tensors(16, 1))]) {
      assert.throws(write, (e: unknown) => e instanceof DataError && /taken\.pth: cannot write \(E[A-Z]+\b/.test(e.message));
    }
    assert.throws(
      () => writePth(join(dir, 'no', 'such', 'w.pth'), tensors(16, 1)),
      (e: unknown) => e instanceof DataError && /w\.pth: cannot write \(ENOENT\b/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), ['taken.pth']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
