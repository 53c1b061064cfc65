// State-dict errors through the command line: a missing, an extra or a misshapen key gives one
// line on stderr naming the file and the key, and exit code 1 (data), never a stack trace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writePth } from '../src/io/pth/index.js';
import { writeNpy } from '../src/io/npy.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'alexnet-cli-weights-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** alexnet-2012's state-dict shapes with 10 classes (values do not matter for these errors). */
const SHAPES: [string, number[]][] = [
  ['features.0.weight', [96, 3, 11, 11]],
  ['features.0.bias', [96]],
  ['features.4.weight', [256, 48, 5, 5]],
  ['features.4.bias', [256]],
  ['features.8.weight', [384, 256, 3, 3]],
  ['features.8.bias', [384]],
  ['features.10.weight', [384, 192, 3, 3]],
  ['features.10.bias', [384]],
  ['features.12.weight', [256, 192, 3, 3]],
  ['features.12.bias', [256]],
  ['classifier.0.weight', [4096, 9216]],
  ['classifier.0.bias', [4096]],
  ['classifier.3.weight', [4096, 4096]],
  ['classifier.3.bias', [4096]],
  ['classifier.6.weight', [10, 4096]],
  ['classifier.6.bias', [10]],
];

function stateDict(edit: (m: Map<string, { shape: number[]; data: Float32Array }>) => void): string {
  const m = new Map(SHAPES.map(([k, s]) => [k, { shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)) }]));
  edit(m);
  const path = join(tmp, `sd${Math.random().toString(36).slice(2)}.pth`);
  writePth(path, m);
  return path;
}

const input = join(tmp, 'x.npy');
writeNpy(input, new Float32Array(3 * 227 * 227), [1, 3, 227, 227]);
const forward = (weights: string) =>
  spawnSync(
    process.execPath,
    ['bin/alexnet.js', 'forward', '--arch', 'alexnet-2012', '--weights', weights, '--input', input, '--output', join(tmp, 'y.npy')],
    { cwd: root, encoding: 'utf8', env: { ...process.env, ALEXNET_BACKEND: 'reference' } },
  );

const cases: [string, (m: Map<string, { shape: number[]; data: Float32Array }>) => void, RegExp][] = [
  ['a missing key', (m) => m.delete('features.10.bias'), /missing key 'features\.10\.bias'/],
  ['an extra key', (m) => m.set('features.14.weight', { shape: [2], data: new Float32Array(2) }), /unexpected key 'features\.14\.weight'/],
  [
    'a misshapen key',
    (m) => m.set('features.8.bias', { shape: [383], data: new Float32Array(383) }),
    /'features\.8\.bias' has shape \[383\], the model expects \[384\]/,
  ],
];
for (const [what, edit, message] of cases) {
  test(`forward with ${what}: one line naming file and key, exit 1`, () => {
    const weights = stateDict(edit);
    const r = forward(weights);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.ok(r.stderr.includes(weights), `stderr should name ${weights}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
}
