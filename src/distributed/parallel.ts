// What the trainer asks of a distributed training mode (DDP: data_parallel.ts; Krizhevsky's
// hybrid: hybrid_parallel.ts): the start (rank 0's weights everywhere), one SGD step on this rank's
// share of the global batch, the whole model on every rank before validation and checkpoints, and
// stop decisions every rank agrees on.
import type { SGD } from '../optim/index.js';
import type { Communicator } from './communicator.js';

/** A step's outcome, the same on every rank. */
export interface GlobalStep {
  /** Mean loss of the global batch. */
  loss: number;
  correct: number;
  images: number;
  /** Some rank has received SIGINT/SIGTERM: every rank stops after this step. */
  stop: boolean;
  /** Seconds this rank waited for gradients after its backward. */
  commWaitS: number;
}

export type ParallelMode = 'ddp' | 'hybrid';
export const PARALLEL_MODES: readonly ParallelMode[] = ['ddp', 'hybrid'];

export interface ParallelTraining {
  readonly comm: Communicator;
  /** Rank 0's weights on every rank (and the optimiser's state taken over where the mode keeps its own). */
  broadcastWeights(): Promise<void>;
  /** One SGD step (`sgd` gives the learning rate and, in DDP, is the optimiser). */
  step(
    sgd: SGD,
    x: Float32Array,
    shape: number[],
    y: Int32Array,
    indices: Int32Array,
    epoch: number,
    signalled: boolean,
  ): Promise<GlobalStep>;
  /**
   * The whole model, and the trainer's optimiser state, up to date on this rank (rank 0 at least):
   * called by every rank at the same points, before validation and checkpoints.
   */
  syncModel(): void;
  /** A stop every rank agrees on (see agreeStop). */
  agree(reason: string | null): Promise<string | null>;
}

/** A stop every rank agrees on: `reason` where this rank has one, else another rank's (unnamed) reason, else null. */
export async function agreeStop(comm: Communicator, reason: string | null): Promise<string | null> {
  const flag = new Float64Array([reason ? 1 : 0]);
  await comm.allreduce(flag, 'max');
  return reason ?? (flag[0] ? 'the time budget of another rank reached' : null);
}
