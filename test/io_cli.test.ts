// `alexnet convert` and `alexnet forward` on small files: pth ↔ safetensors conversion keeps
// every tensor, and bad inputs give one-line errors naming the file (exit 1) or the usage
// problem (exit 2). Full-size forward/convert runs are in the parity suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPth } from '../src/io/pth/index.js';
import { readSafetensors } from '../src/io/safetensors.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/io');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/alexnet.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ALEXNET_BACKEND: 'reference' },
  });

test('convert .pth → .safetensors → .pth keeps every tensor', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'alexnet-cli-io-'));
  try {
    const src = join(fixtures, 'pth/state_legacy.pth');
    const r1 = run('convert', src, join(tmp, 'a.safetensors'));
    assert.equal(r1.status, 0, r1.stderr);
    const r2 = run('convert', join(tmp, 'a.safetensors'), join(tmp, 'b.pth'));
    assert.equal(r2.status, 0, r2.stderr);
    const want = readPth(src);
    const mid = readSafetensors(join(tmp, 'a.safetensors')).tensors;
    const back = readPth(join(tmp, 'b.pth'));
    for (const [k, t] of want) {
      assert.deepEqual(mid.get(k)!.data, t.data, k);
      assert.deepEqual(back.get(k)!.data, t.data, k);
      assert.deepEqual(back.get(k)!.shape, t.shape, k);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('bad inputs: one line on stderr naming the file, no stack trace', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'alexnet-cli-io-'));
  try {
    writeFileSync(join(tmp, 'x.npy'), 'not numpy');
    const cases: [string[], number, RegExp][] = [
      [
        ['convert', join(fixtures, 'pth/malicious_system_zip.pth'), join(tmp, 'o.safetensors')],
        1,
        /malicious_system_zip\.pth.*refused global 'posix\.system'/,
      ],
      [['convert', join(fixtures, 'pth/state_zip.pth'), join(tmp, 'o.txt')], 2, /cannot tell the output format of '.*o\.txt'/],
      [
        ['convert', join(fixtures, 'pth/state_zip.pth'), join(tmp, 'o.onnx')],
        2,
        /state_zip\.pth: cannot tell which AlexNet these weights belong to/,
      ],
      [['convert', join(tmp, 'missing.pth'), join(tmp, 'o.pth')], 1, /missing\.pth: cannot read/],
      [
        ['forward', '--weights', join(fixtures, 'pth/state_zip.pth'), '--input', join(tmp, 'x.npy'), '--output', join(tmp, 'y.npy')],
        1,
        /x\.npy: not a \.npy file/,
      ],
      [
        [
          'forward',
          '--weights',
          join(fixtures, 'pth/state_zip.pth'),
          '--input',
          join(fixtures, 'npy/f8_fortran_2d.npy'),
          '--output',
          join(tmp, 'y.npy'),
        ],
        1,
        /f8_fortran_2d\.npy: expected an \[N, C, H, W\] or \[C, H, W\] array, got shape \[3, 5\]/,
      ],
      [
        [
          'forward',
          '--weights',
          join(fixtures, 'pth/state_zip.pth'),
          '--input',
          join(fixtures, 'npy/f4_c.npy'),
          '--output',
          join(tmp, 'y.npy'),
        ],
        2,
        /state_zip\.pth: cannot tell which AlexNet/,
      ],
      [['forward', '--arch', 'vgg', '--weights', 'w.pth', '--input', 'x.npy', '--output', 'y.npy'], 2, /unknown architecture 'vgg'/],
    ];
    for (const [args, code, re] of cases) {
      const r = run(...args);
      assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
