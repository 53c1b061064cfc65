// One epoch of training: SGD steps over the training loader from the run's position (each step
// inside tidy(): forward, cross-entropy, backward, SGD step, zeroGrad), the running totals and a
// metrics line per step, until the epoch ends or something stops it (a limit, a signal, a loss
// that is no longer finite). The run's state is updated in place after every step, so a
// checkpoint taken at any point resumes exactly.
import type { DataLoader } from '../data/index.js';
import type { ParallelTraining } from '../distributed/parallel.js';
import type { AlexNet } from '../models/index.js';
import { crossEntropy } from '../ops/index.js';
import type { SGD } from '../optim/index.js';
import { keep, Tensor, tidy } from '../tensor.js';
import type { TrainConfig } from './config.js';
import { nextTurn } from './event_loop.js';
import { stepRecord, type MetricsLog } from './logs.js';
import { topkIndices } from './metrics.js';
import { EpochProgress } from './progress.js';
import type { StopPolicy } from './stop_policy.js';

/** Sums over the batches of the epoch in progress (for its summary line). */
export interface EpochTotals {
  lossSum: number;
  correct: number;
  seen: number;
  trainS: number;
  batches: number;
}

export const noTotals = (): EpochTotals => ({ lossSum: 0, correct: 0, seen: 0, trainS: 0, batches: 0 });

/** Where a run stands (saved in every checkpoint). */
export interface RunState {
  /** Loader position: the epoch in progress (0-based) and the batches of it already trained. */
  epoch: number;
  batch: number;
  /** Optimiser steps in total. */
  step: number;
  epochAccum: EpochTotals;
  best: { top1: number; epoch: number } | null;
  /** Seconds of this run so far (all sessions), and training images/seconds for the summary. */
  elapsedS: number;
  trainImages: number;
  trainS: number;
  /** The run ended (all epochs, or a time/step limit). */
  finished: boolean;
  /** Why training stopped before `config.epochs` (a limit), if it did. */
  stoppedEarly: string | null;
}

/** Why an epoch's training ended. */
export type EpochEnd =
  { kind: 'complete' } | { kind: 'limit'; reason: string } | { kind: 'signal' } | { kind: 'diverged'; loss: number; batch: number };

export interface EpochContext {
  config: TrainConfig;
  model: AlexNet;
  sgd: SGD;
  loader: DataLoader;
  state: RunState;
  log: MetricsLog;
  stop: StopPolicy;
  out: NodeJS.WriteStream;
  /** Seconds of the run so far. */
  elapsed: () => number;
  /** Writes a checkpoint of the current state. */
  checkpoint: () => void;
  /** Under MPI: the distributed step (global batch, losses and decisions the same on every rank). */
  parallel?: ParallelTraining;
  /** Whether this process writes the run's records (rank 0 of a distributed job; always otherwise). */
  primary?: boolean;
}

/** A step's outcome: its loss and correct count over `images` (the global batch under MPI). */
interface StepResult {
  loss: number;
  correct: number;
  images: number;
  /** Every rank stops after this step (a signal on some rank). */
  stop: boolean;
  /** Seconds spent waiting for the gradients of other ranks (distributed only). */
  commWaitS?: number;
}

/** One SGD step on a batch; returns the loss and the number of correct top-1 predictions (no step when the loss is not finite). */
function trainStep(model: AlexNet, sgd: SGD, x: Float32Array, shape: number[], y: Int32Array): { loss: number; correct: number } {
  return tidy(() => {
    const logits = model.forward(Tensor.fromArray(x, shape));
    const loss = crossEntropy(logits, y);
    const value = loss.item();
    const scores = logits.toArray();
    const c = logits.shape[1] ?? 0;
    let correct = 0;
    for (let i = 0; i < y.length; i++) if (topkIndices(scores, i, c, 1)[0] === y[i]) correct++;
    if (!Number.isFinite(value)) return { loss: value, correct };
    loss.backward();
    sgd.step();
    // Momentum buffers are created inside this tidy scope on the first step: keep them.
    for (const b of sgd.stateDict().buffers) if (b) keep(b);
    sgd.zeroGrad();
    return { loss: value, correct };
  });
}

/** Linear decay to zero over the planned steps (a function of the step: resumes exactly). */
function linearLr(config: TrainConfig, step: number, batchesPerEpoch: number): number {
  return config.lr * Math.max(0, 1 - step / (config.epochs * batchesPerEpoch));
}

/** Trains the rest of the current epoch (from state.batch) and says why it ended. */
export async function trainEpoch(ctx: EpochContext): Promise<EpochEnd> {
  const { config: c, state, sgd } = ctx;
  const epoch = state.epoch;
  const total = ctx.loader.numBatches;
  const acc = state.epochAccum;
  const limit = ctx.stop.stepLimit(state.step);
  if (limit) return { kind: 'limit', reason: limit };
  if (state.batch >= total) return { kind: 'complete' };
  const bar = new EpochProgress(`epoch ${epoch + 1}/${c.epochs}`, total, state.batch, ctx.out);
  ctx.model.train();
  let tBatch = performance.now();
  try {
    for await (const b of ctx.loader.iterate(epoch, state.batch)) {
      if (c.schedule === 'linear') sgd.lr = linearLr(c, state.step, total);
      const { loss, correct, images, stop, commWaitS }: StepResult = ctx.parallel
        ? await ctx.parallel.step(sgd, b.x, b.shape, b.y, b.indices, epoch, ctx.stop.signal !== null)
        : { ...trainStep(ctx.model, sgd, b.x, b.shape, b.y), images: b.y.length, stop: false };
      const now = performance.now();
      const dt = (now - tBatch) / 1000;
      tBatch = now;
      if (!Number.isFinite(loss)) return { kind: 'diverged', loss, batch: b.batch + 1 };
      state.step++;
      state.batch = b.batch + 1;
      acc.lossSum += loss * images;
      acc.correct += correct;
      acc.seen += images;
      acc.trainS += dt;
      acc.batches++;
      state.trainImages += images;
      state.trainS += dt;
      const imgPerS = acc.seen / Math.max(acc.trainS, 1e-9);
      const record = stepRecord({ state, loss, top1: correct / images, lr: sgd.lr, images, seconds: dt, time: ctx.elapsed() });
      if (ctx.primary ?? true) ctx.log.append(commWaitS === undefined ? record : { ...record, comm_wait_s: commWaitS });
      bar.update(state.batch, { loss: acc.lossSum / acc.seen, top1: acc.correct / acc.seen, imgPerS });
      // A loader whose batches are ready resolves on microtasks only: let a signal's handler run.
      await nextTurn();
      if (ctx.parallel ? stop : ctx.stop.signal) return { kind: 'signal' };
      if (c.checkpointEvery !== null && state.step % c.checkpointEvery === 0 && state.batch < total) ctx.checkpoint();
      const local = ctx.stop.afterStep(state.step, dt, imgPerS);
      // The time budget is read from each rank's clock: the ranks agree on it (a step limit is the same everywhere).
      const reason = ctx.parallel && c.timeLimitS !== null ? await ctx.parallel.agree(local) : local;
      if (reason) return { kind: 'limit', reason };
    }
  } finally {
    bar.stop();
  }
  return { kind: 'complete' };
}
