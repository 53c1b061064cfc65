// `alexnet prepare` end to end through the CLI entry (bin/alexnet.js): the file it writes, the
// skipped-file summary, --strict stopping with the path and leaving no file behind, bad usage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PreparedDataset } from '../src/data/index.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '..', '..');
const FIX = join(REPO, 'test', 'fixtures', 'data');
const BIN = join(REPO, 'bin', 'alexnet.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('alexnet prepare writes a prepared file, skips and lists broken files; --strict stops at the first', () => {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-prepare-'));
  try {
    mkdirSync(join(root, 'cat'));
    mkdirSync(join(root, 'dog'));
    copyFileSync(join(FIX, 'photos', 'street.jpg'), join(root, 'cat', 'street.jpg'));
    copyFileSync(join(FIX, 'photos', 'small.webp'), join(root, 'cat', 'small.webp'));
    copyFileSync(join(FIX, 'unusual', 'cmyk.jpg'), join(root, 'dog', 'cmyk.jpg'));
    copyFileSync(join(FIX, 'broken', 'truncated.jpg'), join(root, 'dog', 'truncated.jpg'));
    const out = join(root, 'data.prep');
    const ok = cli(['prepare', root, '--out', out, '--size', '48', '--quiet']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /prepared 3 images \(48x48x3\) of 2 classes into .*data\.prep/);
    assert.match(ok.stderr, /skipped 1 broken input \(1 corrupt\): \S*dog\/truncated\.jpg/);
    const ds = new PreparedDataset(out);
    assert.deepEqual([ds.length, ds.header.height, ds.header.channels], [3, 48, 3]);
    assert.deepEqual([ds.label(0), ds.label(1), ds.label(2)], [0, 0, 1]);
    assert.deepEqual(
      ds.header.skipped.map((p) => p.split('/').pop()),
      ['truncated.jpg'],
    );
    ds.close();

    const strictOut = join(root, 'strict.prep');
    const strict = cli(['prepare', root, '--out', strictOut, '--strict', '--quiet']);
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /^alexnet: \S*dog\/truncated\.jpg: corrupt: .*strict/m);
    assert.ok(!existsSync(strictOut), 'no output after --strict failure');
    assert.deepEqual(
      readdirSync(root).filter((f) => f.includes('.tmp')),
      [],
      'no temporary file left',
    );

    const usage = cli(['prepare', root]);
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--out/);
    const missing = cli(['prepare', join(root, 'nope'), '--out', join(root, 'x')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope: cannot list the dataset folder/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
