// Krizhevsky's "one weird trick" (2014): data parallelism for the convolutional layers, model
// parallelism for the fully-connected ones. Each rank runs the features on its own b samples
// (conv gradients all-reduced in buckets as in DDP, overlapped with backward); the flattened
// features are all-gathered so every rank holds the global batch (N·b rows); each rank computes its
// slice of FC6's output units (UnitSplit) for all N·b samples, the slices are all-gathered along
// the units, and so on for FC7 and FC8: the logits, loss and accuracy of the global batch are then
// the same on every rank. Backward reduce-scatters the partial input gradients of each FC layer
// (hybrid_ops.ts); each rank's FC weight gradients are for its own slice, with no all-reduce.
// Dropout draws its masks from the global samples' indices, as in DDP, so any N trains as one
// process does with the global batch.
//
// The model object keeps its whole FC weights (for validation and checkpoints, which syncModel
// brings up to date from the slices); training updates the slices, with their own momentum, in
// an optimiser over the trainer's parameter list with each FC weight and bias replaced by its slice.
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { ReLU } from '../nn/activation.js';
import type { AlexNet } from '../models/index.js';
import { crossEntropy, linear } from '../ops/index.js';
import { dropoutRows } from '../ops/dropout.js';
import { flatten } from '../ops/shape.js';
import { hashSeed } from '../data/seeds.js';
import { SGD } from '../optim/index.js';
import { keep, Tensor, tidy } from '../tensor.js';
import { topkIndices } from '../train/metrics.js';
import type { Communicator } from './communicator.js';
import { backwardHook } from './data_parallel.js';
import { GradReducer, type GradDtype } from './grad_reducer.js';
import { collectiveClock, gatherColumns, gatherRows, gatherUnitRows } from './hybrid_ops.js';
import { agreeStop, type GlobalStep, type ParallelTraining } from './parallel.js';
import { checkHybridWidths, UnitSplit } from './unit_split.js';

/** One fully-connected layer split over the ranks: the whole layer, this rank's slice and the split. */
interface SlicedLayer {
  layer: Linear;
  split: UnitSplit;
  weight: Tensor;
  bias: Tensor | null;
}

/** The classifier's layers after the flatten: dropout, a sliced linear layer (with its ReLU when one follows). */
type ClassifierStage = { kind: 'dropout'; p: number; module: Dropout } | { kind: 'linear'; sliced: SlicedLayer; relu: boolean };

function f32(t: Tensor): Float32Array {
  const a = t.toArray();
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

export class HybridParallel implements ParallelTraining {
  private readonly features: ReturnType<AlexNet['stages']>;
  private readonly classifier: ClassifierStage[] = [];
  private readonly sliced: SlicedLayer[] = [];
  /** Whole-model parameter → this rank's slice of it. */
  private readonly sliceOf = new Map<Tensor, Tensor>();
  /** The optimiser of the slices and the conv parameters (same parameter order as the trainer's). */
  private readonly local: SGD;
  readonly reducer: GradReducer;

  constructor(
    readonly comm: Communicator,
    readonly model: AlexNet,
    /** The trainer's optimiser: its parameters, hyper-parameters, learning rate and (for checkpoints) its state. */
    private readonly sgd: SGD,
    readonly seed: number,
    gradDtype: GradDtype = 'f32',
  ) {
    const stages = model.stages();
    const at = stages.indexOf('flatten');
    if (at < 0) throw new Error(`${model.arch} has no flatten stage`);
    this.features = stages.slice(0, at);
    const tail = stages.slice(at + 1);
    const linears = tail.filter((m): m is Linear => m instanceof Linear);
    checkHybridWidths(
      linears.map((l, i) => ({ name: `FC${6 + i}`, units: l.outFeatures })),
      comm.size,
    );
    tail.forEach((m, i) => {
      if (m instanceof Dropout) this.classifier.push({ kind: 'dropout', p: m.p, module: m });
      else if (m instanceof Linear) {
        const split = new UnitSplit(m.outFeatures, comm.size);
        const width = split.width(comm.rank);
        const slice = (t: Tensor, shape: number[]): Tensor => keep(Tensor.zeros(shape, { requiresGrad: t.requiresGrad }));
        const sliced: SlicedLayer = {
          layer: m,
          split,
          weight: slice(m.weight, [width, m.inFeatures]),
          bias: m.bias ? slice(m.bias, [width]) : null,
        };
        this.sliced.push(sliced);
        this.sliceOf.set(m.weight, sliced.weight);
        if (m.bias && sliced.bias) this.sliceOf.set(m.bias, sliced.bias);
        this.classifier.push({ kind: 'linear', sliced, relu: tail[i + 1] instanceof ReLU });
      } else if (!(m instanceof ReLU) || !(tail[i - 1] instanceof Linear))
        throw new Error(`--parallel hybrid: ${model.arch}'s classifier has a layer it cannot split (${m === 'flatten' ? m : m.typeName})`);
    });
    this.local = new SGD(
      sgd.params.map((p) => this.sliceOf.get(p) ?? p),
      { lr: sgd.lr, momentum: sgd.momentum, dampening: sgd.dampening, weightDecay: sgd.weightDecay, nesterov: sgd.nesterov },
    );
    this.reducer = new GradReducer(
      comm,
      sgd.params.filter((p) => !this.sliceOf.has(p)),
      gradDtype,
    );
  }

  /** Rank 0's weights on every rank, cut into this rank's slices; the trainer's momentum (a resumed run's) likewise. */
  async broadcastWeights(): Promise<void> {
    for (const p of this.model.parameters()) {
      const values = f32(p).slice();
      await this.comm.broadcast(values, 0);
      if (!this.comm.primary) p.write(0, values);
    }
    for (const s of this.sliced) {
      s.weight.write(0, this.rows(s, f32(s.layer.weight), s.layer.inFeatures));
      if (s.bias && s.layer.bias) s.bias.write(0, this.rows(s, f32(s.layer.bias), 1));
    }
    const state = this.sgd.stateDict();
    const buffers = state.buffers.map((b, i) => {
      const p = this.sgd.params[i];
      const slice = p && this.sliceOf.get(p);
      if (!b || !slice) return b;
      const s = this.sliced.find((l) => l.weight === slice || l.bias === slice) as SlicedLayer;
      return Tensor.fromArray(this.rows(s, f32(b), p.shape[1] ?? 1), slice.shape);
    });
    this.local.loadStateDict({ lr: state.lr, buffers });
    buffers.forEach((b, i) => {
      if (b && b !== state.buffers[i]) b.dispose();
    });
    // The trainer's (whole) momentum is rebuilt by syncModel before it is needed again.
    this.sgd.loadStateDict({ lr: state.lr, buffers: state.buffers.map(() => null) });
  }

  /** This rank's rows of a whole [units, cols] parameter. */
  private rows(s: SlicedLayer, whole: Float32Array, cols: number): Float32Array {
    const start = s.split.start(this.comm.rank);
    return whole.subarray(start * cols, (start + s.split.width(this.comm.rank)) * cols);
  }

  /** The slices gathered into the model's whole FC weights, and the whole momentum into the trainer's optimiser (rank 0). */
  syncModel(): void {
    for (const s of this.sliced) {
      s.layer.weight.write(0, gatherUnitRows(this.comm, f32(s.weight), s.split, s.layer.inFeatures));
      if (s.bias && s.layer.bias) s.layer.bias.write(0, gatherUnitRows(this.comm, f32(s.bias), s.split, 1));
    }
    const state = this.local.stateDict();
    const whole = state.buffers.map((b, i) => {
      const p = this.sgd.params[i];
      const slice = p && this.sliceOf.get(p);
      if (!b || !p || !slice) return b;
      const s = this.sliced.find((l) => l.weight === slice || l.bias === slice) as SlicedLayer;
      const values = gatherUnitRows(this.comm, f32(b), s.split, p.shape[1] ?? 1);
      // Every rank takes part in the gather; only rank 0 (which writes checkpoints) keeps the whole buffer.
      return this.comm.primary ? Tensor.fromArray(values, p.shape) : null;
    });
    if (this.comm.primary) this.sgd.loadStateDict({ lr: this.sgd.lr, buffers: whole });
    whole.forEach((b, i) => {
      if (b && b !== state.buffers[i]) b.dispose();
    });
  }

  /** The global batch's logits on every rank: features on this rank's samples, the classifier sliced. */
  forward(x: Tensor, globalIndices: Int32Array, epoch: number): Tensor {
    this.model.checkInput(x.shape);
    let h = x;
    for (const stage of this.features) {
      if (stage === 'flatten') continue;
      const own = stage.parameters();
      if (own.length && h.requiresGrad) h = backwardHook(h, () => this.reducer.ready(own));
      h = stage.forward(h);
    }
    h = gatherRows(this.comm, flatten(h, 1));
    let dropouts = 0;
    for (const stage of this.classifier) {
      if (stage.kind === 'dropout') {
        if (!stage.module.training) continue;
        const k = dropouts++;
        const seeds = Uint32Array.from(globalIndices, (i) => hashSeed(this.seed, epoch, i, 3, k));
        h = dropoutRows(h, stage.p, seeds);
        continue;
      }
      const { sliced, relu } = stage;
      h = gatherColumns(this.comm, linear(h, sliced.weight, sliced.bias, { relu }), sliced.split);
    }
    return h;
  }

  /** Every rank's values of `mine` (equal lengths), in rank order. */
  private gathered(mine: Int32Array): Int32Array {
    const all = new Int32Array(mine.length * this.comm.size);
    this.comm.allgatherSync(mine, all);
    return all;
  }

  async step(
    sgd: SGD,
    x: Float32Array,
    shape: number[],
    y: Int32Array,
    indices: Int32Array,
    epoch: number,
    signalled: boolean,
  ): Promise<GlobalStep> {
    // Every rank's batch has the same size (the sampler pads the epoch to a multiple of N); checked, since the gathers rely on it.
    const sizes = this.gathered(new Int32Array([y.length]));
    if (sizes.some((n) => n !== y.length)) throw new Error(`--parallel hybrid: per-rank batches differ in size (${[...sizes].join(', ')})`);
    const labels = this.gathered(y);
    const globalIndices = this.gathered(indices);
    const flags = new Float64Array([signalled ? 1 : 0]);
    let stopped: Promise<number> = Promise.resolve(0);
    let loss = NaN;
    let correct = 0;
    collectiveClock.seconds = 0;
    tidy(() => {
      const logits = this.forward(Tensor.fromArray(x, shape), globalIndices, epoch);
      const l = crossEntropy(logits, labels);
      const scores = logits.toArray();
      const c = logits.shape[1] ?? 0;
      for (let i = 0; i < labels.length; i++) if (topkIndices(scores, i, c, 1)[0] === labels[i]) correct++;
      loss = l.item();
      // Queued before any gradient bucket: the collectives are in the same order on every rank.
      stopped = this.comm.allreduce(flags, 'max');
      // Every rank holds the same loss: backward from loss / N, since the reduce-scatters sum the ranks' shares.
      l.backward(Tensor.full(l.shape, 1 / this.comm.size));
      this.reducer.flush();
    });
    await stopped;
    const commWaitS = (await this.reducer.wait()) + collectiveClock.seconds;
    if (Number.isFinite(loss)) {
      this.local.lr = sgd.lr;
      tidy(() => {
        this.local.step();
        for (const b of this.local.stateDict().buffers) if (b) keep(b);
      });
    }
    this.local.zeroGrad();
    return { loss, correct, images: labels.length, stop: (flags[0] ?? 0) > 0, commWaitS };
  }

  agree(reason: string | null): Promise<string | null> {
    return agreeStop(this.comm, reason);
  }
}
