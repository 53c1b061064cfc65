// Fuzz: 1,000 seeded corruptions (truncation, bit flips, overwritten ranges, inserted bytes) of
// the committed .pth (zip and legacy), .npy and .safetensors fixtures. Each read must return or
// throw a DataError — no other exception, no crash, no hang — in bounded time. Zip fixtures are
// also fuzzed with their pickle corrupted and the archive re-packed with valid CRCs, so the
// pickle machine itself sees the damage (otherwise the CRC check stops it first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/errors.js';
import { parseNpy } from '../src/io/npy.js';
import { readPth } from '../src/io/pth/index.js';
import { ZipReader, ZipWriter } from '../src/io/pth/zip.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { Generator } from '../src/random.js';

const root = fileURLToPath(new URL('../../test/fixtures/io/', import.meta.url));
const rng = new Generator(20261127);

function mutate(src: Uint8Array): Uint8Array {
  const b = new Uint8Array(src);
  switch (rng.int(4)) {
    case 0:
      return b.subarray(0, rng.int(b.length));
    case 1: {
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips; i++) b[rng.int(b.length)]! ^= 1 << rng.int(8);
      return b;
    }
    case 2: {
      const at = rng.int(b.length);
      const len = 1 + rng.int(16);
      for (let i = at; i < Math.min(b.length, at + len); i++) b[i] = rng.int(256);
      return b;
    }
    default: {
      const at = rng.int(b.length);
      const extra = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
      const out = new Uint8Array(b.length + extra.length);
      out.set(b.subarray(0, at));
      out.set(extra, at);
      out.set(b.subarray(at), at + extra.length);
      return out;
    }
  }
}

/** A zip fixture with its data.pkl mutated and every entry re-packed with valid CRCs. */
function repackWithBadPickle(zipBytes: Uint8Array): Uint8Array {
  const zip = new ZipReader(zipBytes, 'fixture');
  const w = new ZipWriter();
  for (const n of zip.names) w.add(n, n.endsWith('data.pkl') ? mutate(zip.read(n)) : zip.read(n));
  return Buffer.concat(w.finish());
}

const readers: Record<string, (b: Uint8Array) => unknown> = {
  pth: (b) => readPth(b, 'fuzz.pth'),
  npy: (b) => parseNpy(b, 'fuzz.npy'),
  safetensors: (b) => parseSafetensors(b, 'fuzz.safetensors'),
};

const sources: { kind: string; bytes: Uint8Array; repack: boolean }[] = [
  ...['state_zip.pth', 'state_zip_proto4.pth', 'checkpoint_zip.pth'].flatMap((f) => {
    const bytes = readFileSync(root + 'pth/' + f);
    return [
      { kind: 'pth', bytes, repack: false },
      { kind: 'pth', bytes, repack: true },
    ];
  }),
  ...['state_legacy.pth', 'checkpoint_nested_legacy.pth'].map((f) => ({
    kind: 'pth',
    bytes: readFileSync(root + 'pth/' + f),
    repack: false,
  })),
  ...['f4_c.npy', 'f8_fortran_2d.npy', 'i8.npy'].map((f) => ({ kind: 'npy', bytes: readFileSync(root + 'npy/' + f), repack: false })),
  { kind: 'safetensors', bytes: readFileSync(root + 'safetensors/basic.safetensors'), repack: false },
];

test('1,000 corrupted or truncated files each give a clean DataError or a result', () => {
  const started = Date.now();
  let errors = 0;
  let slowest = 0;
  for (let i = 0; i < 1000; i++) {
    const src = sources[i % sources.length]!;
    const bytes = src.repack ? repackWithBadPickle(src.bytes) : mutate(src.bytes);
    const t0 = Date.now();
    try {
      readers[src.kind]!(bytes);
    } catch (err) {
      if (!(err instanceof DataError)) {
        assert.fail(
          `case ${i} (${src.kind}${src.repack ? ', repacked' : ''}): ${(err as Error).name}: ${(err as Error).message}\n${(err as Error).stack}`,
        );
      }
      errors++;
    }
    slowest = Math.max(slowest, Date.now() - t0);
  }
  const elapsed = Date.now() - started;
  console.log(`fuzz: 1000 cases, ${errors} DataErrors, slowest ${slowest} ms, total ${elapsed} ms`);
  assert.ok(errors > 700, `most corruptions must be detected (${errors}/1000)`);
  assert.ok(slowest < 2000, `each case must finish quickly (slowest ${slowest} ms)`);
});
