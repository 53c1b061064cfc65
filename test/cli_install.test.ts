// Installing a package that is already built (build/Release) or ships prebuilds
// (prebuilds/PLATFORM-ARCH) does not compile again: package.json's install script finishes
// without running node-gyp and leaves the addons as they were; the library finds each addon in
// either place.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addonFile, type AddonName } from '../src/native_addons.js';
import { root, tempDir } from './train_helpers.js';

const ADDONS: AddonName[] = ['alexnet_native', 'alexnet_image'];
const built = ADDONS.map((name) => join(root, 'build/Release', `${name}.node`));
const skip = built.every((f) => existsSync(f)) ? false : 'the addons are not built here (npm run build:native)';

/** A copy of the package's install inputs with the built addons in `addonDir` (relative to it). */
function packageCopy(addonDir: string): string {
  const dir = tempDir('install');
  for (const f of ['package.json', 'binding.gyp']) copyFileSync(join(root, f), join(dir, f));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, addonDir), { recursive: true });
  for (const f of built) copyFileSync(f, join(dir, addonDir, f.slice(f.lastIndexOf('/') + 1)));
  return dir;
}

/** Each file's modification time and bytes. */
function snapshot(files: string[]): [string, number, string][] {
  return files.map((f) => [f, statSync(f).mtimeMs, readFileSync(f).toString('base64')]);
}

const layouts: [what: string, addonDir: string][] = [
  ['a built checkout', 'build/Release'],
  ['a package with prebuilds', `prebuilds/${platform()}-${arch()}`],
];
for (const [what, addonDir] of layouts) {
  test(`npm install script on ${what} does not compile`, { skip }, () => {
    const dir = packageCopy(addonDir);
    const addons = ADDONS.map((name) => join(dir, addonDir, `${name}.node`));
    const before = snapshot(addons);
    const r = spawnSync('npm', ['run', '--silent', 'install'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    const output = r.stdout + r.stderr;
    assert.equal(r.status, 0, output);
    assert.doesNotMatch(output, /gyp|not built/, output);
    assert.deepEqual(snapshot(addons), before);
    if (addonDir !== 'build/Release') assert.equal(existsSync(join(dir, 'build')), false, 'nothing was built');
    for (const name of ADDONS) assert.equal(addonFile(name, dir), join(dir, addonDir, `${name}.node`));
  });
}

test('a build is preferred to a prebuild, and neither gives undefined', { skip }, () => {
  const dir = packageCopy(`prebuilds/${platform()}-${arch()}`);
  assert.equal(addonFile('alexnet_native', join(dir, 'nowhere')), undefined);
  mkdirSync(join(dir, 'build/Release'), { recursive: true });
  copyFileSync(built[0] ?? '', join(dir, 'build/Release/alexnet_native.node'));
  assert.equal(addonFile('alexnet_native', dir), join(dir, 'build/Release/alexnet_native.node'));
  assert.equal(addonFile('alexnet_image', dir), join(dir, `prebuilds/${platform()}-${arch()}/alexnet_image.node`));
});

test('where the addons cannot be built, the install still succeeds and says what will be used', () => {
  // A copy without the C++ sources: node-gyp is run and fails.
  const dir = tempDir('install');
  for (const f of ['package.json', 'binding.gyp']) copyFileSync(join(root, f), join(dir, f));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync('npm', ['run', '--silent', 'install'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /native addons not built .* the reference backend and sharp will be used/);
});
