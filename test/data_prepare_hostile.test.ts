// `alexnet prepare` and `alexnet train` against hostile inputs and options, through the real
// CLI: a 1×65500 strip is skipped as too large (or stops --strict with one line), --max-pixels
// lowers the limit, --workers 100000 is a usage error before any thread starts, and SIGTERM
// in the middle of a run leaves no temporary file behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tinyFashionMnist } from './train_helpers.js';

const REPO = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const FIX = join(REPO, 'test', 'fixtures', 'data');
const BIN = join(REPO, 'bin', 'alexnet.js');

function cli(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const start = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, ALEXNET_BACKEND: 'reference' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - start };
}

function temps(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.tmp'));
}

async function stripFolder(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-prep-hostile-'));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  const strip = await sharp({ create: { width: 1, height: 65500, channels: 3, background: { r: 9, g: 99, b: 199 } } })
    .jpeg()
    .toBuffer();
  writeFileSync(join(root, 'a', 'strip.jpg'), strip);
  copyFileSync(join(FIX, 'photos', 'street.jpg'), join(root, 'b', 'street.jpg'));
  return root;
}

test('prepare skips a 1×65500 strip as too large, --strict stops with one line, --max-pixels lowers the limit', async () => {
  const root = await stripFolder();
  try {
    const out = join(root, 'out.prep');
    const ok = cli(['prepare', root, '--out', out, '--quiet']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /prepared 1 images/);
    assert.match(ok.stderr, /strip\.jpg: too-large: resizing 1x65500 to 256x16768000 would exceed the 89478485-pixel limit/);
    assert.ok(ok.ms < 30000);

    const strict = cli(['prepare', root, '--out', join(root, 'strict.prep'), '--quiet', '--strict']);
    assert.equal(strict.status, 1);
    assert.equal(strict.stderr.trim().split('\n').length, 1, strict.stderr);
    assert.match(strict.stderr, /^alexnet: \S*strip\.jpg: too-large: /);
    assert.ok(!existsSync(join(root, 'strict.prep')));

    const low = cli(['prepare', root, '--out', join(root, 'low.prep'), '--size', '32', '--quiet', '--max-pixels', '1000', '--strict']);
    assert.equal(low.status, 1);
    assert.match(low.stderr, /^alexnet: \S*(strip|street)\.jpg: too-large: .*1000/);
    assert.deepEqual(temps(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--workers 100000 is a usage error naming --workers and the limit, before any worker starts (prepare, train)', async () => {
  const root = await stripFolder();
  try {
    const prep = cli(['prepare', root, '--out', join(root, 'x.prep'), '--workers', '100000']);
    assert.equal(prep.status, 2);
    assert.equal(prep.stderr.trim().split('\n').length, 1, prep.stderr);
    assert.match(prep.stderr, /--workers.*at most \d+ data worker threads/);
    assert.deepEqual(temps(root), []);

    const data = tinyFashionMnist(8, 4);
    const run = join(root, 'run');
    const train = cli(['train', '--dataset', `fashion-mnist=${data}`, '--workers', '100000', '--epochs', '1', '--out', run]);
    assert.equal(train.status, 2, train.stderr);
    assert.equal(train.stderr.trim().split('\n').length, 1, train.stderr);
    assert.match(train.stderr, /--workers.*at most \d+ data worker threads on this machine, got 100000/);
    assert.ok(train.ms < 30000, `took ${train.ms} ms`);
    assert.ok(!existsSync(run), 'the run directory was made before the option was refused');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('SIGTERM in the middle of prepare leaves no temporary file', async () => {
  const root = mkdtempSync(join(tmpdir(), 'alexnet-prep-signal-'));
  try {
    mkdirSync(join(root, 'a'));
    // Enough images that the run is still going when the first progress line appears.
    for (let i = 0; i < 400; i++) copyFileSync(join(FIX, 'photos', 'wide.jpg'), join(root, 'a', `w${i}.jpg`));
    const out = join(root, 'out.prep');
    const child = spawn(process.execPath, [BIN, 'prepare', root, '--out', out, '--size', '64', '--workers', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let sawTemp = false;
    const exit = new Promise<NodeJS.Signals | number | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        if (/prepare: \d+\/400/.test(chunk.toString()) && child.exitCode === null && !child.killed) {
          sawTemp = temps(root).length > 0;
          child.kill('SIGTERM');
        }
      });
      child.on('exit', (code, signal) => resolve(signal ?? code));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
    const how = await exit;
    clearTimeout(timer);
    assert.ok(sawTemp, 'the temporary file existed while preparing');
    assert.equal(how, 'SIGTERM');
    assert.deepEqual(temps(root), []);
    assert.ok(!existsSync(out));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
