// `alexnet serve`'s command line: bad options are one-line usage errors (exit 2), a port in use
// or an unusable host too, weights that cannot be loaded a one-line data error (exit 1) after the
// server had started listening, and SIGINT (Ctrl-C) stops it cleanly with exit 0.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { http, smallRgbModel, startServer } from './serve_helpers.js';
import { runCli, tempDir } from './train_helpers.js';

test('bad options, a busy port and missing weights are one-line errors with exit 2 or 1', async () => {
  const dir = tempDir('serve-cli');
  const weights = smallRgbModel(dir);
  const cases: [string[], number, RegExp][] = [
    [[], 2, /--weights/],
    [['--weights', weights, '--port', '70000'], 2, /--port/],
    [['--weights', weights, '--max-batch', '0'], 2, /--max-batch/],
    [['--weights', weights, '--max-delay-ms', '-1'], 2, /--max-delay-ms/],
    [['--weights', weights, '--precision', 'fp8'], 2, /--precision/],
    [['--weights', weights, '--precision', 'f16', '--backend', 'reference'], 2, /precision f16 .* needs the webgpu backend/],
    [['--weights', weights, '--decode-workers', '0'], 2, /--decode-workers/],
    [['--weights', join(dir, 'missing.pth'), '--port', '0'], 1, /missing\.pth/],
    [['--weights', weights, '--port', '0', '--host', '192.0.2.1'], 2, /--host 192\.0\.2\.1/],
  ];
  for (const [args, code, message] of cases) {
    const r = runCli(['serve', ...args]);
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('alexnet:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
  }
  const s = await startServer(['--weights', weights]);
  try {
    const port = new URL(s.base).port;
    const busy = runCli(['serve', '--weights', weights, '--port', port]);
    assert.equal(busy.status, 2, busy.stderr);
    assert.match(busy.stderr, new RegExp(`alexnet: --port ${port}: the port is in use`));
    assert.equal((await http(`${s.base}/healthz`)).status, 200);
    s.child.kill('SIGINT');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
    assert.match(s.stdout(), /SIGINT: no longer accepting/);
  } finally {
    s.child.kill('SIGKILL');
  }
});
