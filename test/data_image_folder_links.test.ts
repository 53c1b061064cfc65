// ImageFolder and links inside class folders: a link to '..' (or '.', or any ancestor) must not
// pull other classes' images in or loop; a link to a folder outside the class folder is not
// followed; links to folders inside it and links to image files anywhere are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageFolder } from '../src/data/index.js';

const STREET = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'fixtures', 'data', 'photos', 'street.jpg');

test('links to .., . or outside a class folder are not followed; links inside it and file links are kept', () => {
  const top = mkdtempSync(join(tmpdir(), 'alexnet-links-'));
  try {
    const root = join(top, 'data');
    const outside = join(top, 'elsewhere');
    for (const d of [join(root, 'cat', 'real_sub'), join(root, 'dog'), outside]) mkdirSync(d, { recursive: true });
    copyFileSync(STREET, join(root, 'cat', 'a.jpg'));
    copyFileSync(STREET, join(root, 'cat', 'real_sub', 'b.jpg'));
    copyFileSync(STREET, join(root, 'dog', 'd.jpg'));
    copyFileSync(STREET, join(outside, 'x.jpg'));
    symlinkSync('..', join(root, 'cat', 'up'));
    symlinkSync('.', join(root, 'cat', 'self'));
    symlinkSync('../..', join(root, 'cat', 'real_sub', 'grandparent'));
    symlinkSync(outside, join(root, 'cat', 'out'));
    symlinkSync('real_sub', join(root, 'cat', 'sub_link'));
    symlinkSync('../dog/d.jpg', join(root, 'cat', 'file_link.jpg'));
    const start = Date.now();
    const ds = ImageFolder.open(root);
    assert.deepEqual(ds.classes, ['cat', 'dog']);
    assert.deepEqual(
      ds.files.map((f) => relative(root, f)),
      ['cat/a.jpg', 'cat/file_link.jpg', 'cat/real_sub/b.jpg', 'dog/d.jpg'],
    );
    assert.deepEqual(Array.from(ds.labels), [0, 0, 0, 1]);
    assert.ok(Date.now() - start < 5000);
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
