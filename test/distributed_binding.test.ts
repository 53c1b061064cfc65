// The alexnet_mpi binding under a real mpirun with 2 ranks: allreduce (sum, max), broadcast and
// allgather of every element type against known results, over Open MPI's default transports
// (shared memory: up to 100 MB for the gradient types f32 and bf16) and with TCP forced (up to 1 MB).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { mpiSkip, mpirunArgs } from './distributed_helpers.js';
import { root } from './train_helpers.js';

for (const transport of ['default', 'tcp'] as const) {
  test(`binding: collectives of every type and size on 2 ranks (${transport} transport)`, { skip: mpiSkip() }, () => {
    const r = spawnSync(
      'mpirun',
      [
        ...mpirunArgs(2, transport),
        process.execPath,
        'dist/test/distributed_collectives_rank.js',
        ...(transport === 'default' ? ['--large'] : []),
      ],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { rank: number; size: number; failures: string[] });
    assert.deepEqual(lines.map((l) => l.rank).sort(), [0, 1]);
    for (const l of lines) assert.deepEqual(l.failures, [], `rank ${l.rank}`);
  });
}
