// model.json beside the weights is input like any other: a mean-image path outside the model's
// folder, oversized transforms, wrong field types or counts that contradict the weights are
// DataErrors naming model.json and the field; class names are printed without control characters.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNpy } from '../src/io/npy.js';
import { tempDir } from './train_helpers.js';
import { runCliMeasured, smallV1Pth } from './ckpt_fixtures.js';

const dir = tempDir('modeljson');
const weights = smallV1Pth(dir);
const input = join(dir, 'x.npy');
writeNpy(input, new Float32Array(65 * 65), [1, 65, 65]);
const GOOD = {
  arch: 'alexnet-v1',
  numClasses: 10,
  inChannels: 1,
  inputSize: 65,
  classes: Array.from({ length: 10 }, (_, i) => `class${i}`),
  evalTransforms: [{ type: 'resize', size: [65, 65] }, { type: 'toTensor' }, { type: 'normalize', mean: [0.5], std: [0.5] }],
};

let n = 0;
/** A folder holding the shared weights as model.pth and `info` as model.json; returns the weights path. */
function modelWith(info: unknown): string {
  const d = join(dir, `m${n++}`);
  mkdirSync(d);
  symlinkSync(weights, join(d, 'model.pth'));
  writeFileSync(join(d, 'model.json'), JSON.stringify(info));
  return join(d, 'model.pth');
}

const predict = (w: string) => runCliMeasured(['predict', input, '--weights', w, '--topk', '3']);

test('a valid model.json is used (class names printed)', () => {
  const r = predict(modelWith(GOOD));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1\. class\d/);
});

test('hostile or wrong model.json fields are one DataError line naming model.json and the field', () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'a mean image outside the folder',
      { ...GOOD, meanImage: { file: '../../etc/passwd', shape: [1, 65, 65] } },
      /model\.json: meanImage\.file '\.\.\/\.\.\/etc\/passwd' is outside the model's folder/,
    ],
    [
      'an absolute mean image path',
      { ...GOOD, meanImage: { file: '/etc/passwd', shape: [1, 65, 65] } },
      /model\.json: meanImage\.file '\/etc\/passwd' is outside the model's folder/,
    ],
    [
      'a huge resize',
      { ...GOOD, evalTransforms: [{ type: 'resize', size: 5000 }, { type: 'toTensor' }] },
      /model\.json: evalTransforms\[0\]\.size 5000 is out of range/,
    ],
    [
      'an unknown transform',
      { ...GOOD, evalTransforms: [{ type: 'rm -rf' }] },
      /model\.json: evalTransforms\[0\]\.type 'rm -rf' is not a transform/,
    ],
    ['a string class count', { ...GOOD, numClasses: 'ten' }, /model\.json: numClasses must be an integer/],
    ['class names not strings', { ...GOOD, classes: [1, 2] }, /model\.json: classes must be a list of strings/],
    ['an unknown architecture', { ...GOOD, arch: 'vgg' }, /model\.json: arch 'vgg' is not alexnet, alexnet-v1 or alexnet-2012/],
    ['a class count the weights contradict', { ...GOOD, numClasses: 5 }, /model\.json: numClasses 5, but the weights have 10 classes/],
    ['not an object', [1], /model\.json: not a JSON object/],
  ];
  for (const [what, info, message] of cases) {
    const r = predict(modelWith(info));
    assert.equal(r.status, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, message, what);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(r.peakMiB < 400, `${what}: peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  }
});

test('class names with terminal escape sequences are printed without control characters', () => {
  const classes = GOOD.classes.map((c) => `\u001b[2J\u001b]0;pwned\u0007${c}\r`);
  const r = predict(modelWith({ ...GOOD, classes }));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /class\d/);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f]/);
});
