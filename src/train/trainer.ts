// The training loop of `alexnet train`: epochs of SGD steps (each inside tidy(): forward,
// cross-entropy, backward, SGD step, zeroGrad), evaluation after every epoch, schedules,
// checkpoints (every epoch, on SIGINT/SIGTERM, and the best one), logs, plots, final weights and
// summary.json. A run resumed from a checkpoint continues exactly: the loader position, the
// momentum buffers, the schedule and every random stream are restored (on the reference backend
// the losses are bit for bit those of an uninterrupted run).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getBackend, setBackend } from '../backend/registry.js';
import { DataLoader, T, meanImageCached, type Dataset, type MeanImage } from '../data/index.js';
import { DataError } from '../errors.js';
import { createModel, type AlexNet } from '../models/index.js';
import { crossEntropy } from '../ops/index.js';
import { ReduceLROnPlateau, SGD, StepLR, type PlateauState } from '../optim/index.js';
import { defaultGenerator, Generator, manualSeed, type RngState } from '../random.js';
import { keep, Tensor, tidy } from '../tensor.js';
import { CheckpointStore, writeFileAtomic, type Checkpoint, type CheckpointTensor } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { isPrepared, materialize, openRunData, tenCropTransforms, type RunData } from './data.js';
import { evaluate, predictProbabilities } from './evaluate.js';
import { nextTurn } from './event_loop.js';
import { MetricsLog, type EpochRecord } from './logs.js';
import { topkIndices } from './metrics.js';
import { errorPlot, filterGrid, lossPlot, lrPlot } from './plots.js';
import { EpochProgress, formatDuration } from './progress.js';
import { lastLayerPrefix, loadInto, modelWeights, readWeights, saveFinalWeights, shapeFromWeights, type ModelInfo } from './weights.js';

/** What a checkpoint holds besides tensors (model/<key>, optim/<i>, norm/mean_image). */
export interface CheckpointMeta {
  kind: 'alexnet-train-checkpoint';
  config: TrainConfig;
  model: ModelInfo;
  /** Loader position: the epoch in progress (0-based) and the batches of it already trained. */
  epoch: number;
  batch: number;
  /** Optimiser steps in total. */
  step: number;
  /** Sums over the batches of the epoch in progress (for its summary line). */
  epochAccum: { lossSum: number; correct: number; seen: number; trainS: number; batches: number };
  optimizer: { lr: number; buffers: boolean[] };
  scheduler: { type: 'step'; lastEpoch: number } | { type: 'plateau'; state: PlateauState } | { type: 'none' };
  rng: { default: { s: RngState; spare: number | null } };
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

export interface TrainerOptions {
  config: TrainConfig;
  runDir: string;
  resume?: Checkpoint<CheckpointMeta>;
  /** The data, when the caller has opened it already. */
  data?: RunData;
  out?: NodeJS.WriteStream;
}

export interface Summary {
  arch: string;
  dataset: string;
  epochs: number;
  val_top1: number | null;
  val_top5: number | null;
  wall_s: number;
  img_per_s: number;
  precision: string;
  backend: string;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class Trainer {
  readonly config: TrainConfig;
  readonly runDir: string;
  readonly store: CheckpointStore;
  readonly log: MetricsLog;
  private readonly out: NodeJS.WriteStream;
  private model!: AlexNet;
  private sgd!: SGD;
  private stepLr: StepLR | null = null;
  private plateau: ReduceLROnPlateau | null = null;
  private data!: RunData;
  private trainLoader!: DataLoader;
  private valLoader!: DataLoader;
  private meanImage: MeanImage | null = null;
  private state!: Omit<CheckpointMeta, 'kind' | 'config' | 'model' | 'optimizer' | 'scheduler' | 'rng'>;
  private stopSignal: string | null = null;
  /** performance.now() counts from process start, so the run's wall time includes start-up. */
  private sessionStart = 0;
  private elapsedBefore = 0;

  constructor(private readonly opts: TrainerOptions) {
    this.config = opts.config;
    this.runDir = opts.runDir;
    this.store = new CheckpointStore(join(opts.runDir, 'checkpoints'));
    this.log = new MetricsLog(opts.runDir);
    this.out = opts.out ?? process.stdout;
  }

  private say(line: string): void {
    this.out.write(line + '\n');
  }

  private elapsed(): number {
    return this.elapsedBefore + (performance.now() - this.sessionStart) / 1000;
  }

  /** The model info stored with checkpoints and the final weights. */
  modelInfo(): ModelInfo {
    const c = this.config;
    return {
      arch: c.arch,
      numClasses: c.numClasses,
      inChannels: c.inChannels,
      inputSize: c.inputSize,
      classes: c.classes,
      evalTransforms: c.evalTransforms,
      meanImage: c.meanImageFile && this.meanImage ? { file: c.meanImageFile, shape: this.meanImage.shape } : undefined,
      dataset: this.data?.name,
    };
  }

  // ---- setup ---------------------------------------------------------------------------------

  private async setup(): Promise<void> {
    const c = this.config;
    mkdirSync(this.store.dir, { recursive: true });
    this.store.cleanStale();
    setBackend(c.backend, { threads: c.threads ?? undefined, precision: c.precision });
    manualSeed(c.seed);
    this.data = this.opts.data ?? openRunData(c.data, c.inChannels === 1 ? 1 : 3, c.strict);
    if (c.meanImageFile) {
      const fromCheckpoint = this.opts.resume?.tensors.get('norm/mean_image');
      if (fromCheckpoint) {
        const s = fromCheckpoint.shape;
        this.meanImage = { data: fromCheckpoint.data, shape: [s[0], s[1], s[2]] };
      } else {
        this.say(`computing the per-pixel mean image over ${this.data.train.length} training images (saved as ${c.meanImageFile})`);
        const prep = isPrepared(this.data.train);
        this.meanImage = await meanImageCached(join(this.runDir, c.meanImageFile), this.data.train, {
          transforms: prep ? [T.toTensor()] : [T.resize(256), T.centerCrop(256), T.toTensor()],
          workers: c.workers,
          broken: this.data.broken,
        });
      }
    }
    const resolve = (f: string): string => join(this.runDir, f);
    const mean = this.meanImage ?? undefined;
    const trainT = materialize(c.trainTransforms, resolve, mean);
    const evalT = materialize(c.tenCrop ? tenCropTransforms(c.evalTransforms) : c.evalTransforms, resolve, mean);
    this.trainLoader = new DataLoader(this.data.train, {
      batchSize: c.batchSize,
      shuffle: true,
      seed: c.seed,
      transforms: trainT,
      workers: c.workers,
      broken: this.data.broken,
    });
    this.valLoader = new DataLoader(this.data.val, {
      batchSize: c.tenCrop ? Math.max(1, Math.floor(c.batchSize / 10)) : c.batchSize,
      shuffle: false,
      seed: c.seed,
      transforms: evalT,
      workers: c.workers,
      broken: this.data.broken,
    });

    this.model = createModel(c.arch, {
      numClasses: c.numClasses,
      inChannels: c.inChannels,
      inputSize: c.inputSize,
      init: c.init,
      dropout: c.dropout,
      rng: new Generator(c.seed),
    });
    if (c.pretrained && !this.opts.resume) this.loadPretrained(c.pretrained);
    let params = this.model.parameters();
    if (c.freeze === 'features') {
      const convPart = this.model.namedChildren()[0][0];
      for (const [name, p] of this.model.namedParameters()) if (name.startsWith(convPart + '.')) p.requiresGrad = false;
      params = params.filter((p) => p.requiresGrad);
    }
    this.sgd = new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
    if (c.schedule === 'step') this.stepLr = new StepLR(this.sgd, c.stepSize, c.gamma);
    if (c.schedule === 'plateau') this.plateau = new ReduceLROnPlateau(this.sgd, { mode: 'min', factor: 0.1, patience: c.patience });
    this.state = {
      epoch: 0,
      batch: 0,
      step: 0,
      epochAccum: { lossSum: 0, correct: 0, seen: 0, trainS: 0, batches: 0 },
      best: null,
      elapsedS: 0,
      trainImages: 0,
      trainS: 0,
      finished: false,
      stoppedEarly: null,
    };
    if (this.opts.resume) this.restore(this.opts.resume);
    else {
      writeFileSync(join(this.runDir, 'config.json'), JSON.stringify(c, null, 2) + '\n');
      this.log.truncate(0, 0);
    }
  }

  private loadPretrained(path: string): void {
    const { weights } = readWeights(path);
    const shape = shapeFromWeights(this.config.arch, weights, path);
    if (shape.inChannels !== this.config.inChannels)
      throw new DataError(`${path}: conv1 takes ${shape.inChannels} input channels, this run has ${this.config.inChannels}`);
    const replaceLast = shape.numClasses !== this.config.numClasses;
    loadInto(this.model, weights, path, replaceLast ? { skipPrefix: lastLayerPrefix(this.config.arch) } : {});
    this.say(
      `loaded pretrained weights from ${path}${replaceLast ? ` (last layer replaced: ${shape.numClasses} → ${this.config.numClasses} classes)` : ''}`,
    );
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  private checkpointTensors(): Map<string, CheckpointTensor> {
    const t = new Map<string, CheckpointTensor>();
    for (const [k, w] of modelWeights(this.model)) t.set(`model/${k}`, w);
    this.sgd.stateDict().buffers.forEach((b, i) => {
      if (!b) return;
      const a = b.toArray();
      t.set(`optim/${i}`, { shape: [...b.shape], data: a instanceof Float32Array ? a : Float32Array.from(a) });
    });
    if (this.meanImage) t.set('norm/mean_image', { shape: [...this.meanImage.shape], data: this.meanImage.data });
    return t;
  }

  private saveCheckpoint(): void {
    const sgdState = this.sgd.stateDict();
    const meta: CheckpointMeta = {
      kind: 'alexnet-train-checkpoint',
      config: this.config,
      model: this.modelInfo(),
      ...this.state,
      elapsedS: this.elapsed(),
      optimizer: { lr: this.sgd.lr, buffers: sgdState.buffers.map((b) => b !== null) },
      scheduler: this.stepLr
        ? { type: 'step', lastEpoch: this.stepLr.lastEpoch }
        : this.plateau
          ? { type: 'plateau', state: this.plateau.stateDict() }
          : { type: 'none' },
      rng: { default: defaultGenerator.getState() },
    };
    this.store.saveLast(meta, this.checkpointTensors());
  }

  private restore(ck: Checkpoint<CheckpointMeta>): void {
    const m = ck.meta;
    const weights = new Map<string, CheckpointTensor>();
    for (const [k, t] of ck.tensors) if (k.startsWith('model/')) weights.set(k.slice(6), t);
    loadInto(this.model, weights, 'checkpoint');
    const buffers = m.optimizer.buffers.map((present, i) => {
      if (!present) return null;
      const t = ck.tensors.get(`optim/${i}`);
      if (!t) throw new DataError(`checkpoint: momentum buffer optim/${i} is missing`);
      return Tensor.fromArray(t.data, t.shape);
    });
    this.sgd.loadStateDict({ lr: m.optimizer.lr, buffers });
    for (const b of buffers) b?.dispose();
    if (m.scheduler.type === 'step' && this.stepLr) this.stepLr.loadStateDict({ lastEpoch: m.scheduler.lastEpoch });
    if (m.scheduler.type === 'plateau' && this.plateau) this.plateau.loadStateDict(m.scheduler.state);
    defaultGenerator.setState(m.rng.default);
    this.state = {
      epoch: m.epoch,
      batch: m.batch,
      step: m.step,
      epochAccum: { ...m.epochAccum },
      best: m.best,
      elapsedS: m.elapsedS,
      trainImages: m.trainImages,
      trainS: m.trainS,
      finished: m.finished,
      stoppedEarly: m.stoppedEarly,
    };
    this.elapsedBefore = m.elapsedS;
    this.log.truncate(m.step, m.epoch);
  }

  // ---- the loop ------------------------------------------------------------------------------

  /** One SGD step on a batch; returns the loss and the number of correct top-1 predictions. */
  private trainStep(x: Float32Array, shape: number[], y: Int32Array): { loss: number; correct: number } {
    return tidy(() => {
      const logits = this.model.forward(Tensor.fromArray(x, shape));
      const loss = crossEntropy(logits, y);
      const value = loss.item();
      const scores = logits.toArray();
      const c = logits.shape[1];
      let correct = 0;
      for (let i = 0; i < y.length; i++) if (topkIndices(scores, i, c, 1)[0] === y[i]) correct++;
      if (!Number.isFinite(value)) return { loss: value, correct };
      loss.backward();
      this.sgd.step();
      // Momentum buffers are created inside this tidy scope on the first step: keep them.
      for (const b of this.sgd.stateDict().buffers) if (b) keep(b);
      this.sgd.zeroGrad();
      return { loss: value, correct };
    });
  }

  private installSignals(): () => void {
    const handler = (sig: NodeJS.Signals): void => {
      if (this.stopSignal) {
        process.stderr.write(`alexnet: second ${sig}: exiting without a checkpoint\n`);
        process.exit(130);
      }
      this.stopSignal = sig;
      process.stderr.write(`\nalexnet: ${sig} received: finishing the step and writing a checkpoint (press again to quit at once)\n`);
    };
    for (const s of STOP_SIGNALS) process.on(s, handler);
    return () => {
      for (const s of STOP_SIGNALS) process.off(s, handler);
    };
  }

  private interrupted(): number {
    this.saveCheckpoint();
    this.say(
      `interrupted by ${this.stopSignal}: checkpoint written to ${this.store.lastPath} (epoch ${this.state.epoch + 1}, batch ${this.state.batch}); continue with --resume ${this.runDir}`,
    );
    return 130;
  }

  /** Runs (or continues) the training; returns the process exit code (0, 1 on NaN, 130 on a signal). */
  async run(): Promise<number> {
    const removeSignals = this.installSignals();
    try {
      await this.setup();
      return await this.loop();
    } finally {
      removeSignals();
      await this.trainLoader?.close();
      await this.valLoader?.close();
    }
  }

  private describeStart(): void {
    const c = this.config;
    const be = getBackend();
    const precision = getBackend().precision;
    const native = c.arch === 'alexnet' ? 224 : 227;
    const fc6 = c.arch !== 'alexnet' && c.inputSize !== native ? ', FC6 sized for it' : '';
    const sizeNote =
      c.inputSize !== native ? ` (reduced input ${c.inputSize}×${c.inputSize}${fc6}; ${c.arch} normally takes ${native}×${native})` : '';
    this.say(
      `${c.arch}: ${c.inChannels} input channel${c.inChannels > 1 ? 's' : ''}, ${c.numClasses} classes, input ${c.inChannels}×${c.inputSize}×${c.inputSize}${sizeNote}; ${this.model.parameterCount().toLocaleString('en-US')} parameters`,
    );
    this.say(`data: ${this.data.name}: ${this.data.train.length} training / ${this.data.val.length} validation images; recipe ${c.recipe}`);
    this.say(
      `SGD lr ${c.lr} momentum ${c.momentum} weight decay ${c.weightDecay}, batch ${c.batchSize}, ${c.epochs} epochs, schedule ${c.schedule}${c.schedule === 'step' ? ` (×${c.gamma} every ${c.stepSize})` : c.schedule === 'linear' ? ' (to 0 per step)' : ''}; backend ${be.name}, ${precision}${c.recipe === 'fashion-mnist' && precision === 'bf16' ? " (the quick start's default; --precision f32 to change)" : ''}${c.timeLimitS ? `; time budget ${formatDuration(c.timeLimitS)}` : ''}`,
    );
    this.say(`run directory: ${this.runDir}`);
  }

  private async loop(): Promise<number> {
    const c = this.config;
    if (this.opts.resume) {
      if (this.state.finished) {
        this.say(`run in ${this.runDir} is already complete (${this.state.epoch} epochs); nothing to resume`);
        return 0;
      }
      this.say(`resuming ${this.runDir} at epoch ${this.state.epoch + 1}, batch ${this.state.batch} (step ${this.state.step})`);
    }
    this.describeStart();
    const total = this.trainLoader.numBatches;
    let evalSeconds = 0;
    while (this.state.epoch < c.epochs) {
      const epoch = this.state.epoch;
      const label = `epoch ${epoch + 1}/${c.epochs}`;
      const acc = this.state.epochAccum;
      const bar = new EpochProgress(label, total, this.state.batch, this.out);
      let limitReason: string | null = null;
      // Time kept for evaluation and the final files: the last evaluation's duration, or before
      // the first one an estimate (a forward pass costs about a third of a training step).
      const reserve = (): number => 15 + (evalSeconds || this.data.val.length / (3 * Math.max(acc.seen / Math.max(acc.trainS, 1e-9), 1)));
      this.model.train();
      let tBatch = performance.now();
      try {
        if (c.maxSteps !== null && this.state.step >= c.maxSteps) limitReason = `--max-steps ${c.maxSteps} reached`;
        else if (this.state.batch < total) {
          for await (const b of this.trainLoader.iterate(epoch, this.state.batch)) {
            // Linear decay to zero over the planned steps (a function of the step: resumes exactly).
            if (c.schedule === 'linear') this.sgd.lr = c.lr * Math.max(0, 1 - this.state.step / (c.epochs * total));
            const { loss, correct } = this.trainStep(b.x, b.shape, b.y);
            const now = performance.now();
            const dt = (now - tBatch) / 1000;
            tBatch = now;
            if (!Number.isFinite(loss)) {
              bar.stop();
              const good = existsSync(this.store.lastPath)
                ? `the last good checkpoint is kept: ${this.store.lastPath}`
                : 'no checkpoint was written yet';
              process.stderr.write(
                `alexnet: training diverged: the loss is ${loss} at epoch ${epoch + 1}, batch ${b.batch + 1} (step ${this.state.step + 1}); stopping (try a lower --lr); ${good}\n`,
              );
              return 1;
            }
            this.state.step++;
            this.state.batch = b.batch + 1;
            acc.lossSum += loss * b.y.length;
            acc.correct += correct;
            acc.seen += b.y.length;
            acc.trainS += dt;
            acc.batches++;
            this.state.trainImages += b.y.length;
            this.state.trainS += dt;
            const ips = acc.seen / Math.max(acc.trainS, 1e-9);
            this.log.append({
              type: 'step',
              epoch: epoch + 1,
              batch: b.batch + 1,
              step: this.state.step,
              loss,
              top1: correct / b.y.length,
              lr: this.sgd.lr,
              img_per_s: b.y.length / Math.max(dt, 1e-9),
              time_s: this.elapsed(),
            });
            bar.update(this.state.batch, { loss: acc.lossSum / acc.seen, top1: acc.correct / acc.seen, imgPerS: ips });
            // A loader whose batches are ready resolves on microtasks only: let a signal's handler run.
            await nextTurn();
            if (this.stopSignal) {
              bar.stop();
              return this.interrupted();
            }
            if (c.checkpointEvery !== null && this.state.step % c.checkpointEvery === 0 && this.state.batch < total) this.saveCheckpoint();
            if (c.maxSteps !== null && this.state.step >= c.maxSteps) {
              limitReason = `--max-steps ${c.maxSteps} reached`;
              break;
            }
            if (c.timeLimitS !== null && this.elapsed() + reserve() + dt >= c.timeLimitS) {
              limitReason = `time budget of ${formatDuration(c.timeLimitS)} reached`;
              break;
            }
          }
        }
      } finally {
        bar.stop();
      }
      if (this.stopSignal) return this.interrupted();
      // Evaluate on the validation split.
      const t0 = performance.now();
      const res = await evaluate(this.model, this.valLoader, c.classes, { shouldStop: () => this.stopSignal !== null });
      evalSeconds = (performance.now() - t0) / 1000;
      if (!res) return this.interrupted();
      const lrUsed = this.sgd.lr;
      if (this.stepLr) this.stepLr.step();
      if (this.plateau) this.plateau.step(1 - res.top1);
      const record: EpochRecord = {
        type: 'epoch',
        epoch: epoch + 1,
        step: this.state.step,
        train_loss: acc.lossSum / Math.max(acc.seen, 1),
        train_top1: acc.correct / Math.max(acc.seen, 1),
        val_loss: res.loss,
        val_top1: res.top1,
        val_top5: res.top5,
        lr: lrUsed,
        epoch_s: acc.trainS + evalSeconds,
        img_per_s: acc.seen / Math.max(acc.trainS, 1e-9),
        time_s: this.elapsed(),
        batches: acc.batches,
        batches_total: total,
      };
      const isBest = !this.state.best || res.top1 > this.state.best.top1;
      if (isBest) this.state.best = { top1: res.top1, epoch: epoch + 1 };
      this.state.epoch = epoch + 1;
      this.state.batch = 0;
      this.state.epochAccum = { lossSum: 0, correct: 0, seen: 0, trainS: 0, batches: 0 };
      if (limitReason) {
        this.state.finished = true;
        this.state.stoppedEarly = `${limitReason} in epoch ${epoch + 1} after ${acc.batches}/${total} batches`;
      }
      if (this.state.epoch >= c.epochs) this.state.finished = true;
      this.saveCheckpoint();
      if (isBest) this.store.markLastAsBest();
      this.log.append(record);
      this.log.writeCsv();
      this.say(
        `${label}: train loss ${record.train_loss.toFixed(4)}, train top-1 ${(100 * record.train_top1).toFixed(2)}% | val loss ${res.loss.toFixed(4)}, top-1 error ${(100 * (1 - res.top1)).toFixed(2)}%, top-5 error ${(100 * (1 - res.top5)).toFixed(2)}% | lr ${Number(record.lr.toPrecision(4))} | ${formatDuration(record.epoch_s)} (${record.img_per_s.toFixed(0)} img/s)${isBest ? ' | best' : ''}`,
      );
      await this.writePlots();
      if (limitReason) {
        this.say(`stopping: ${this.state.stoppedEarly}`);
        break;
      }
      if (this.stopSignal) {
        this.say(`interrupted by ${this.stopSignal} after epoch ${epoch + 1}: checkpoint written; continue with --resume ${this.runDir}`);
        return 130;
      }
    }
    await this.finish();
    return 0;
  }

  private async writePlots(): Promise<void> {
    const records = this.log.read();
    const epochs = this.log.epochs(records);
    const steps = this.log.steps(records);
    const points = epochs.map((e) => ({
      epoch: e.epoch,
      trainLoss: e.train_loss,
      trainTop1: e.train_top1,
      valTop1: e.val_top1,
      valTop5: e.val_top5,
      lr: e.lr,
    }));
    const batchesPerEpoch = this.trainLoader.numBatches;
    const stepPoints = steps.map((s) => ({ x: s.epoch - 1 + s.batch / batchesPerEpoch, loss: s.loss }));
    const conv1 = this.model.namedParameters()[0][1];
    const w = conv1.toArray();
    const files: [string, Promise<Buffer>][] = [
      ['loss.png', lossPlot(stepPoints, points)],
      ['error.png', errorPlot(points)],
      ['lr.png', lrPlot(points)],
      ['conv1_filters.png', filterGrid(w instanceof Float32Array ? w : Float32Array.from(w), conv1.shape)],
    ];
    for (const [name, p] of files) writeFileAtomic(join(this.runDir, name), [await p]);
  }

  private async finish(): Promise<void> {
    const c = this.config;
    const info = this.modelInfo();
    const weightsPath = join(this.runDir, 'model.pth');
    saveFinalWeights(weightsPath, this.model, info);
    const epochs = this.log.epochs();
    const last = epochs[epochs.length - 1];
    const be = getBackend();
    const summary: Summary = {
      arch: c.arch,
      dataset: this.data.name,
      epochs: epochs.length,
      val_top1: last?.val_top1 ?? null,
      val_top5: last?.val_top5 ?? null,
      wall_s: Math.round(this.elapsed() * 10) / 10,
      img_per_s: Math.round((this.state.trainImages / Math.max(this.state.trainS, 1e-9)) * 10) / 10,
      precision: getBackend().precision,
      backend: be.name,
    };
    writeFileSync(join(this.runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    if (c.showPredictions > 0) await this.printPredictions(this.data.val, c.showPredictions);
    const acc = last?.val_top1 ?? 0;
    this.say(
      `done in ${formatDuration(summary.wall_s)}: ${epochs.length} epoch${epochs.length === 1 ? '' : 's'}, validation top-1 accuracy ${(100 * acc).toFixed(2)}%, top-5 ${(100 * (last?.val_top5 ?? 0)).toFixed(2)}%, ${summary.img_per_s} img/s (${summary.backend}, ${summary.precision})`,
    );
    if (c.quickStart) {
      const met = acc >= 0.9 && summary.wall_s <= 600;
      this.say(
        `quick start target (≥ 90% test accuracy within 10 minutes): ${met ? 'met' : 'not met'} — ${(100 * acc).toFixed(2)}% in ${formatDuration(summary.wall_s)}`,
      );
    }
    this.say(`weights: ${weightsPath} (+ model.json); metrics: ${this.log.jsonlPath}; plots: loss.png error.png lr.png conv1_filters.png`);
  }

  /** Prints the top-3 classes of the first `count` validation images. */
  private async printPredictions(val: Dataset, count: number): Promise<void> {
    const c = this.config;
    const n = Math.min(count, val.length);
    if (n === 0) return;
    const transforms = materialize(c.evalTransforms, (f) => join(this.runDir, f), this.meanImage ?? undefined);
    const loader = new DataLoader(val, { batchSize: n, shuffle: false, transforms, broken: this.data.broken });
    this.model.eval();
    this.say(`predictions for the first ${n} validation images:`);
    try {
      for await (const b of loader.iterate(0)) {
        const { probs, c: nc } = predictProbabilities(this.model, b.x, b.shape);
        for (let i = 0; i < b.y.length; i++) {
          const top = topkIndices(probs, i, nc, 3);
          const name = (k: number): string => c.classes[k] ?? String(k);
          const mark = top[0] === b.y[i] ? 'ok   ' : 'wrong';
          const guesses = top.map((k) => `${name(k)} ${(100 * probs[i * nc + k]).toFixed(1)}%`).join(', ');
          this.say(`  ${mark} ${basename(val.sourceOf(b.indices[i]))}: true ${name(b.y[i])}; predicted ${guesses}`);
        }
        break;
      }
    } finally {
      await loader.close();
    }
  }
}
