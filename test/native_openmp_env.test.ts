// How idle OpenMP threads wait is decided before the addon loads (libgomp reads its variables
// once, at load): a short spin by default, the user's OMP_WAIT_POLICY / GOMP_SPINCOUNT kept, and
// sleeping at once for MPI ranks that share a machine. The child process asks libgomp itself
// (OMP_DISPLAY_ENV=verbose prints the settings it took), so the check fails if the variable came too late.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { openMpWaitDefaults } from '../src/backend/native/addon.js';
import { skip } from './native_helpers.js';

test('the OpenMP wait defaults keep what the user set', () => {
  assert.deepEqual(openMpWaitDefaults({}), { GOMP_SPINCOUNT: '20000' });
  assert.deepEqual(openMpWaitDefaults({ OMP_WAIT_POLICY: 'passive' }), {});
  assert.deepEqual(openMpWaitDefaults({ GOMP_SPINCOUNT: '0' }), {});
  assert.deepEqual(openMpWaitDefaults({ OMPI_COMM_WORLD_LOCAL_SIZE: '2' }), { OMP_WAIT_POLICY: 'passive' });
  assert.deepEqual(openMpWaitDefaults({ OMPI_COMM_WORLD_LOCAL_SIZE: '1' }), { GOMP_SPINCOUNT: '20000' });
});

/** What libgomp says it took, loading the addon in a child with `env` (OMP_* and GOMP_* unset first). */
function libgompSettings(env: Record<string, string>): string {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMP_|GOMP_|OMPI_)/.test(k)));
  const addon = new URL('../src/backend/native/addon.js', import.meta.url).href;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `(await import(${JSON.stringify(addon)})).loadAddon();`], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...clean, OMP_DISPLAY_ENV: 'verbose', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('libgomp takes the wait policy the library sets, or the user’s', { skip, timeout: 60_000 }, () => {
  assert.match(libgompSettings({}), /GOMP_SPINCOUNT = '20000'/);
  assert.match(libgompSettings({ GOMP_SPINCOUNT: '5000' }), /GOMP_SPINCOUNT = '5000'/);
  assert.match(libgompSettings({ OMP_WAIT_POLICY: 'passive' }), /GOMP_SPINCOUNT = '0'/);
  assert.match(libgompSettings({ OMPI_COMM_WORLD_LOCAL_SIZE: '2' }), /GOMP_SPINCOUNT = '0'/);
});
