// Ctrl-C on a plain `mpirun`. Open MPI 4 does not forward SIGINT: it sends every rank SIGCONT at
// once, SIGTERM after `odls_base_sigkill_timeout` (1 s by default) and SIGKILL one timeout later.
// That SIGCONT is the earliest word of the abort a rank gets, and it becomes a stop request at
// once. Ctrl-Z and fg on mpirun also reach the ranks, as SIGSTOP then SIGCONT: a SIGCONT that
// ends a pause is job control, not an abort. A pause is seen by a worker thread's clock (the main
// thread may be inside a long synchronous step): its ticks stop while the process is stopped.
import { Worker } from 'node:worker_threads';

/** The watcher's tick, and the gap between ticks that counts as a pause (ms). */
const TICK_MS = 100;
const PAUSE_MS = 500;

// clock[0]: the last tick; clock[1]: when the last pause ended (both Date.now()).
const WATCHER = `
const { workerData } = require('node:worker_threads');
const clock = new Float64Array(workerData);
setInterval(() => {
  const now = Date.now();
  if (clock[0] > 0 && now - clock[0] > ${PAUSE_MS}) clock[1] = now;
  clock[0] = now;
}, ${TICK_MS});
`;

/** Calls `onAbort` when mpirun starts ending the job; returns the function that stops listening. */
export function onMpirunAbort(onAbort: () => void): () => void {
  const shared = new SharedArrayBuffer(2 * Float64Array.BYTES_PER_ELEMENT);
  const clock = new Float64Array(shared);
  const watcher = new Worker(WATCHER, { eval: true, workerData: shared });
  watcher.unref();
  let pauseSeen = 0;
  const onContinue = (): void => {
    // Just resumed from a pause: the watcher has not ticked yet, or has and noted the pause.
    const now = Date.now();
    const lastTick = clock[0] ?? 0;
    const pauseEnded = clock[1] ?? 0;
    const resumed = (lastTick > 0 && now - lastTick > PAUSE_MS) || pauseEnded > pauseSeen;
    // A pause the watcher notes in a moment (its first tick after resuming) is this one.
    pauseSeen = Math.max(pauseEnded, now + PAUSE_MS);
    if (!resumed) onAbort();
  };
  process.on('SIGCONT', onContinue);
  return () => {
    process.off('SIGCONT', onContinue);
    void watcher.terminate();
  };
}
