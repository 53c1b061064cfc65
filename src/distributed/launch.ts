// Starting `alexnet train` as one rank of an MPI job. Every rank plans the run from the same
// command line (new or --resume); then the ranks compare notes before any training: if one rank
// could not start (a dataset missing on its host, a bad option) or its config differs from rank
// 0's, every rank stops with one line naming that rank and the reason. Rank 0 alone locks and
// writes the run directory. A run that every rank ends together (finished, stopped by a signal,
// diverged) finalises MPI; an error on one rank leaves without it, and mpirun ends the others.
import { Writable } from 'node:stream';
import { DataError, UsageError } from '../errors.js';
import { Communicator } from './communicator.js';

/** What a rank needs from the command's planning (the run directory, the locked run's trainer). */
export interface DistributedPlan {
  runDir: string;
  open: (opts: { comm: Communicator; out?: NodeJS.WriteStream }) => { config: object; run: () => Promise<number> };
}

/** A rank's start, as the ranks tell one another. */
interface StartNote {
  error: string | null;
  usage: boolean;
  config: Record<string, unknown> | null;
}

/** Output of ranks 1…: nothing (rank 0 prints for the job). */
function silent(): NodeJS.WriteStream {
  return new Writable({ write: (_chunk, _enc, done) => done() }) as unknown as NodeJS.WriteStream;
}

/** The first option where `config` differs from rank 0's, or null. */
function firstDifference(config: Record<string, unknown>, rank0: Record<string, unknown>): string | null {
  const keys = new Set([...Object.keys(config), ...Object.keys(rank0)]);
  for (const k of keys) {
    const a = JSON.stringify(config[k]);
    const b = JSON.stringify(rank0[k]);
    if (a !== b) return `${k}: ${a ?? 'absent'} here, ${b ?? 'absent'} on rank 0`;
  }
  return null;
}

/** Trains as one rank of the MPI job; `plan` plans the run (throws what the command would throw); `lock` locks the run directory on rank 0. */
export async function trainDistributed(
  plan: () => DistributedPlan | Promise<DistributedPlan>,
  lock: (runDir: string) => { release(): void },
): Promise<number> {
  const comm = new Communicator();
  let held: { release(): void } | null = null;
  let trainer: { config: object; run: () => Promise<number> } | null = null;
  let failure: unknown = null;
  try {
    const planned = await plan();
    if (comm.primary) held = lock(planned.runDir);
    trainer = planned.open({ comm, out: comm.primary ? undefined : silent() });
  } catch (err) {
    failure = err;
  }
  const note: StartNote = {
    error: failure === null ? null : failure instanceof Error ? failure.message : String(failure),
    usage: failure instanceof UsageError,
    config: trainer ? (JSON.parse(JSON.stringify(trainer.config)) as Record<string, unknown>) : null,
  };
  const notes = (await comm.allgatherText(JSON.stringify(note))).map((t) => JSON.parse(t) as StartNote);
  const refusal = startRefusal(notes, comm.rank);
  if (failure !== null || refusal) {
    held?.release();
    comm.finish();
    if (failure !== null) throw failure;
    throw refusal;
  }
  let code: number;
  try {
    code = await (trainer as NonNullable<typeof trainer>).run();
  } finally {
    held?.release();
  }
  // Every rank reaches this point after the same step (decisions are summed over ranks).
  comm.finish();
  return code;
}

/** The error every rank but the failing one stops with, or null when all ranks can start. */
function startRefusal(notes: StartNote[], self: number): Error | null {
  const failed = notes.findIndex((n) => n.error !== null);
  if (failed >= 0) {
    const n = notes[failed] as StartNote;
    const text = `rank ${failed} cannot start: ${n.error}`;
    return failed === self ? null : n.usage ? new UsageError(text) : new DataError(text);
  }
  const rank0 = notes[0]?.config ?? {};
  for (let r = 1; r < notes.length; r++) {
    const diff = firstDifference(notes[r]?.config ?? {}, rank0);
    if (diff) return new UsageError(`rank ${r} was started with other options than rank 0 (${diff}); every rank needs the same command`);
  }
  return null;
}
