// What the distributed tests share: whether Open MPI and the binding are here, and mpirun's arguments.
import { spawnSync } from 'node:child_process';
import { addonFile } from '../src/native_addons.js';

/** A skip reason when mpirun or the alexnet_mpi addon is missing (CI installs Open MPI, so they run there). */
export function mpiSkip(): string | false {
  if (spawnSync('mpirun', ['--version']).status !== 0) return 'mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)';
  if (!addonFile('alexnet_mpi')) return 'the alexnet_mpi addon is not built (npm run build:native with libopenmpi-dev installed)';
  return false;
}

/** mpirun's options for `np` local ranks (as root too); 'tcp' forces the TCP transport between them. */
export function mpirunArgs(np: number, transport: 'default' | 'tcp' = 'default'): string[] {
  const tcp = transport === 'tcp' ? ['--mca', 'btl', 'tcp,self'] : [];
  return ['--oversubscribe', '--allow-run-as-root', '-np', String(np), ...tcp];
}
