// Data-parallel training of a model (PyTorch DDP's semantics): weights broadcast from rank 0 once;
// then each step runs forward and backward on this rank's share of the global batch, with a hook
// before every layer that has parameters, which tells the GradReducer that the layer's gradients
// are final, so their allreduce starts while backward computes the earlier layers. Dropout draws
// its mask per sample from the sample's dataset index (and the epoch), so the global batch is
// trained the same way on any number of ranks. Loss, accuracy and the stop decision (a signal on
// any rank) are summed over ranks, so every rank takes the same decisions.
import { Dropout } from '../nn/dropout.js';
import type { AlexNet } from '../models/index.js';
import { crossEntropy } from '../ops/index.js';
import { dropoutRows } from '../ops/dropout.js';
import { flatten } from '../ops/shape.js';
import { hashSeed } from '../data/seeds.js';
import type { SGD } from '../optim/index.js';
import { keep, makeResult, Tensor, tidy } from '../tensor.js';
import { topkIndices } from '../train/metrics.js';
import type { Communicator } from './communicator.js';
import { GradReducer, type GradDtype } from './grad_reducer.js';
import { agreeStop, type GlobalStep, type ParallelTraining } from './parallel.js';

/** An identity op whose backward first calls `onBackward` (the gradients of everything after it are final then). */
export function backwardHook(x: Tensor, onBackward: () => void): Tensor {
  const backend = x.backend;
  return makeResult(backend.clone(x.storage, x.shape), x.shape, backend, [x], () => ({
    name: 'grad_ready',
    inputs: [x],
    backward: (gy) => {
      onBackward();
      return [backend.clone(gy, x.shape)];
    },
    release: () => {},
  }));
}

export class DataParallel implements ParallelTraining {
  readonly reducer: GradReducer;

  constructor(
    readonly comm: Communicator,
    readonly model: AlexNet,
    /** The parameters the optimiser trains. */
    readonly params: readonly Tensor[],
    readonly seed: number,
    gradDtype: GradDtype = 'f32',
  ) {
    this.reducer = new GradReducer(comm, params, gradDtype);
  }

  /** Rank 0's weights on every rank (every parameter, trained or frozen). */
  async broadcastWeights(): Promise<void> {
    for (const p of this.model.parameters()) {
      const a = p.toArray();
      const values = a instanceof Float32Array ? a.slice() : Float32Array.from(a);
      await this.comm.broadcast(values, 0);
      if (!this.comm.primary) p.write(0, values);
    }
  }

  /** The model's forward, with backward hooks before its parameter layers and per-sample dropout. */
  forward(x: Tensor, indices: Int32Array, epoch: number): Tensor {
    this.model.checkInput(x.shape);
    let h = x;
    let dropouts = 0;
    for (const stage of this.model.stages()) {
      if (stage === 'flatten') {
        h = flatten(h, 1);
        continue;
      }
      if (stage instanceof Dropout) {
        if (!stage.training) continue;
        const k = dropouts++;
        const seeds = Uint32Array.from(indices, (i) => hashSeed(this.seed, epoch, i, 3, k));
        h = dropoutRows(h, stage.p, seeds);
        continue;
      }
      const own = stage.parameters();
      if (own.length && h.requiresGrad) h = backwardHook(h, () => this.reducer.ready(own));
      h = stage.forward(h);
    }
    return h;
  }

  /** One SGD step on this rank's part of the global batch; no update when the global loss is not finite. */
  async step(
    sgd: SGD,
    x: Float32Array,
    shape: number[],
    y: Int32Array,
    indices: Int32Array,
    epoch: number,
    signalled: boolean,
  ): Promise<GlobalStep> {
    const sums = new Float64Array(4);
    let summed: Promise<number> = Promise.resolve(0);
    tidy(() => {
      const logits = this.forward(Tensor.fromArray(x, shape), indices, epoch);
      const loss = crossEntropy(logits, y);
      const scores = logits.toArray();
      const c = logits.shape[1] ?? 0;
      let correct = 0;
      for (let i = 0; i < y.length; i++) if (topkIndices(scores, i, c, 1)[0] === y[i]) correct++;
      sums.set([loss.item() * y.length, correct, y.length, signalled ? 1 : 0]);
      // Queued before any gradient bucket: the collectives are in the same order on every rank.
      summed = this.comm.allreduce(sums);
      // Backward from loss / N: the allreduce's sum is then the average (no pass over 244 MB to divide it).
      loss.backward(Tensor.full(loss.shape, 1 / this.comm.size));
      this.reducer.flush();
    });
    await summed;
    const commWaitS = await this.reducer.wait();
    const [lossSum = 0, correct = 0, images = 0, stops = 0] = sums;
    const loss = lossSum / Math.max(images, 1);
    if (Number.isFinite(loss)) {
      tidy(() => {
        sgd.step();
        // Momentum buffers are created inside this tidy scope on the first step: keep them.
        for (const b of sgd.stateDict().buffers) if (b) keep(b);
      });
    }
    sgd.zeroGrad();
    return { loss, correct, images, stop: stops > 0, commWaitS };
  }

  /** Every rank holds the whole model and the optimiser already. */
  syncModel(): void {}

  agree(reason: string | null): Promise<string | null> {
    return agreeStop(this.comm, reason);
  }
}
