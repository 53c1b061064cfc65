// Whether this process was started by an MPI launcher (mpirun/mpiexec of Open MPI, or any
// PMIx/PMI launcher), read from the variables the launcher sets. `alexnet train` checks this
// itself: under MPI it trains as one rank of a distributed job, with no extra flag.

/** Rank and size the launcher announced, or null when this is a plain process. */
export function mpiLaunch(env: NodeJS.ProcessEnv = process.env): { rank: number; size: number } | null {
  const pairs: [string, string][] = [
    ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'],
    ['PMIX_RANK', 'PMIX_SIZE'],
    ['PMI_RANK', 'PMI_SIZE'],
  ];
  for (const [r, s] of pairs) {
    const rank = Number(env[r]);
    const size = Number(env[s]);
    if (env[r] !== undefined && env[s] !== undefined && Number.isInteger(rank) && Number.isInteger(size) && size >= 1)
      return { rank, size };
  }
  return null;
}
