// `alexnet predict` user errors are one DataError line (exit 1): a missing or undecodable image,
// a .npy of the wrong shape — never a stack trace.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNpy } from '../src/io/npy.js';
import { runCli, tempDir } from './train_helpers.js';
import { smallV1Pth } from './ckpt_fixtures.js';

test('predict: a missing or broken image, a misshapen .npy: one line, exit 1', () => {
  const dir = tempDir('ckpredict');
  const weights = smallV1Pth(dir);
  writeFileSync(join(dir, 'bad.png'), 'not a png');
  writeNpy(join(dir, 'three.npy'), new Float32Array(3 * 65 * 65), [3, 65, 65]);
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.png'), /missing\.png: .*cannot read \(ENOENT\)/],
    [join(dir, 'bad.png'), /bad\.png: .*unsupported image format/],
    [join(dir, 'three.npy'), /three\.npy: expected a preprocessed tensor \[1, H, W\]/],
  ];
  for (const [image, message] of cases) {
    const r = runCli(['predict', image, '--weights', weights]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
