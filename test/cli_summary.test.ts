// The `alexnet` command line: summary output and its usage errors (one line on stderr, exit 2,
// never a stack trace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/alexnet.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ALEXNET_BACKEND: 'reference' },
  });
const fixture = (name: string) => readFileSync(`${root}test/fixtures/summary/${name}`, 'utf8');
const trimLines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');

test("alexnet summary prints torchsummary's table", () => {
  const r = run('summary', '--arch', 'alexnet-2012', '--input', '3,227,227');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(trimLines(r.stdout), trimLines(fixture('alexnet-2012_3x227x227.txt')));
  const b = run('summary', '--arch', 'alexnet', '--input', '3,224,224', '--batch', '16');
  assert.equal(trimLines(b.stdout), trimLines(fixture('alexnet_3x224x224_b16.txt')));
});

test('alexnet summary --flops adds MACs', () => {
  const r = run('summary', '--arch', 'alexnet', '--input', '3,224,224', '--flops');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Conv2d-1 +\[-1, 64, 55, 55\] +23,296 +70,276,800/);
  assert.match(r.stdout, /Total MACs: 714,188,480 \(0\.714 G\)/);
});

const usageErrors: [string, string[], RegExp][] = [
  ['unknown architecture', ['summary', '--arch', 'vgg16'], /unknown architecture 'vgg16'/],
  ['malformed --input', ['summary', '--arch', 'alexnet', '--input', '3,224'], /expected C,H,W/],
  [
    'input the model cannot take',
    ['summary', '--arch', 'alexnet-v1', '--input', '3,224,224'],
    /alexnet-v1 expects input \[N, 3, 227, 227\]/,
  ],
  ['unknown command', ['frobnicate'], /unknown command/],
];
for (const [what, args, message] of usageErrors) {
  test(`${what}: one line on stderr, exit 2`, () => {
    const r = run(...args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `expected one line, got:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
}
