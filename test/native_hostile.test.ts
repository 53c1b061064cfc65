// The addon checks its own arguments: hostile dims, geometry and numbers passed to it directly
// (not through the backend's checks) throw a JS Error naming the value at fault, instead of
// overflowing int64, allocating a wrapped-around size and crashing the process (a linear on
// Tensor.zeros([2 ** 62, 4]) used to segfault). The calls run in a child process, so a crash
// shows as a signal exit rather than killing the test runner.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addonPath } from '../src/backend/native/addon.js';
import { skip } from './native_helpers.js';

test('hostile arguments to the addon throw JS errors, never crash', { skip, timeout: 60_000 }, () => {
  const child = fileURLToPath(new URL('./native_hostile_child.js', import.meta.url));
  const r = spawnSync(process.execPath, [child, addonPath()], {
    encoding: 'utf8',
    timeout: 50_000,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as Record<string, string>;
  assert.ok(Object.keys(results).length >= 30);
  for (const [name, outcome] of Object.entries(results)) {
    assert.match(outcome, /^(Error|TypeError|RangeError): native: /, `${name}: ${outcome}`);
  }
});
