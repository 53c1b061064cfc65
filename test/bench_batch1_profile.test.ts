// The batch-1 layer profile (bench/batch1_profile.ts) in its quick mode: the peers' processes
// take their turns (pause, untimed and timed forwards), ONNX Runtime's profile is read back for
// exactly the timed runs (it throws when the run counts disagree), and every layer of ours and of
// ORT gets a time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { skip } from './native_helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('batch1_profile --quick: every layer timed for ours and ONNX Runtime, in turns', { skip }, () => {
  const r = spawnSync(
    process.execPath,
    ['dist/bench/batch1_profile.js', '--quick', '--classifier', 'int8', '--wait', 'none', '--gap', '5', '--turn', '2'],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\(a 5 ms pause, 3 untimed and 2 timed forwards\)/);
  const row = (label: string): string[] => {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`| ${label} |`));
    assert.ok(line, `no row for ${label}`);
    return line.split('|').map((c) => c.trim());
  };
  const ms = /^\d+\.\d\d \(\d+\.\d\d\)$/;
  for (const layer of ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'pool1', 'fc6', 'fc7', 'fc8', 'whole forward']) {
    const cells = row(layer);
    assert.match(cells[2]!, ms, `ours ${layer}: ${cells[2]}`);
    assert.match(cells[6]!, ms, `ORT ${layer}: ${cells[6]}`);
  }
  // The int8 classifier peer ran its turns too and agrees with f32 on the top class.
  assert.match(row('ours, classifier int8').at(-2)!, /top-1 same/);
});
