// `alexnet predict` user errors are one DataError line (exit 1): a missing or undecodable image,
// a .npy of the wrong shape, an image too large to resize (named) — never a stack trace.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { writeNpy } from '../src/io/npy.js';
import { runCli, tempDir } from './train_helpers.js';
import { smallV1Pth } from './ckpt_fixtures.js';

test('predict: a missing or broken image, a misshapen .npy, a strip too large to resize: one line, exit 1', async () => {
  const dir = tempDir('ckpredict');
  const weights = smallV1Pth(dir);
  writeFileSync(join(dir, 'bad.png'), 'not a png');
  writeNpy(join(dir, 'three.npy'), new Float32Array(3 * 65 * 65), [3, 65, 65]);
  // 65500 pixels fit the limit; resizing the short side to the model's size would make millions of times more.
  await sharp({ create: { width: 1, height: 65500, channels: 3, background: { r: 9, g: 99, b: 199 } } })
    .png()
    .toFile(join(dir, 'strip.png'));
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.png'), /missing\.png: .*cannot read \(ENOENT\)/],
    [join(dir, 'bad.png'), /bad\.png: .*unsupported image format/],
    [join(dir, 'three.npy'), /three\.npy: expected a preprocessed tensor \[1, H, W\]/],
    [join(dir, 'strip.png'), /strip\.png: resizing a 1x65500 image .* would exceed the \d+-pixel limit/],
  ];
  for (const [image, message] of cases) {
    const r = runCli(['predict', image, '--weights', weights]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
