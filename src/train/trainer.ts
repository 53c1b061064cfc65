// A run of `alexnet train`: setup (data, model, optimiser, or the state of a checkpoint), then per
// epoch its training (epoch.ts, stopped by the StopPolicy: limits, time budget, signals), the
// validation pass and the epoch's end (schedules, metrics, checkpoints: every epoch, on
// SIGINT/SIGTERM, and the best one; plots); at the end the final weights and summary.json. The
// lines and records it writes are formatted in logs.ts. A run resumed from a checkpoint continues exactly: the loader position, the
// momentum buffers, the schedule and every random stream are restored (on the reference backend
// the losses are bit for bit those of an uninterrupted run).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getBackend, setBackend } from '../backend/registry.js';
import { DataLoader, T, meanImageCached, type Dataset, type MeanImage } from '../data/index.js';
import type { Communicator } from '../distributed/communicator.js';
import { DataParallel } from '../distributed/data_parallel.js';
import { HybridParallel } from '../distributed/hybrid_parallel.js';
import type { ParallelTraining } from '../distributed/parallel.js';
import { checkHybridWidths } from '../distributed/unit_split.js';
import { DistributedSampler } from '../distributed/sampler.js';
import { DataError, ShapeError } from '../errors.js';
import { shapeText } from '../shape.js';
import { createModel, type AlexNet } from '../models/index.js';
import { ReduceLROnPlateau, SGD, StepLR, type PlateauState } from '../optim/index.js';
import { defaultGenerator, Generator, manualSeed, type RngState } from '../random.js';
import { Tensor } from '../tensor.js';
import { CheckpointStore, writeFileAtomic, type Checkpoint, type CheckpointTensor } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { isPrepared, materialize, openRunData, tenCropTransforms, type RunData } from './data.js';
import { evaluate, predictProbabilities, type EvalResult } from './evaluate.js';
import { doneLines, epochLine, epochRecord, MetricsLog, startLines } from './logs.js';
import { noTotals, trainEpoch, type EpochContext, type RunState } from './epoch.js';
import { StopPolicy } from './stop_policy.js';
import { onMpirunAbort } from '../distributed/mpirun_abort.js';
import { topkIndices } from './metrics.js';
import { errorPlot, filterGrid, lossPlot, lrPlot } from './plots.js';
import { lastLayerPrefix, loadInto, modelWeights, readWeights, saveFinalWeights, shapeFromWeights, type ModelInfo } from './weights.js';

/** What a checkpoint holds besides tensors (model/<key>, optim/<i>, norm/mean_image). */
export interface CheckpointMeta extends RunState {
  kind: 'alexnet-train-checkpoint';
  config: TrainConfig;
  model: ModelInfo;
  optimizer: { lr: number; buffers: boolean[] };
  scheduler: { type: 'step'; lastEpoch: number } | { type: 'plateau'; state: PlateauState } | { type: 'none' };
  rng: { default: { s: RngState; spare: number | null } };
}

export interface TrainerOptions {
  config: TrainConfig;
  runDir: string;
  resume?: Checkpoint<CheckpointMeta>;
  /** The data, when the caller has opened it already. */
  data?: RunData;
  out?: NodeJS.WriteStream;
  /** Under MPI: this rank's communicator. Rank 0 prints and writes the run directory; the others only compute. */
  comm?: Communicator;
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
  private state!: RunState;
  private stop!: StopPolicy;
  /** performance.now() counts from process start, so the run's wall time includes start-up. */
  private sessionStart = 0;
  private elapsedBefore = 0;
  /** This process prints and writes the run's files (always, except on ranks 1… of an MPI job). */
  private readonly primary: boolean;
  private parallel: ParallelTraining | undefined;

  constructor(private readonly opts: TrainerOptions) {
    this.config = opts.config;
    this.runDir = opts.runDir;
    this.store = new CheckpointStore(join(opts.runDir, 'checkpoints'));
    this.log = new MetricsLog(opts.runDir);
    this.out = opts.out ?? process.stdout;
    this.primary = opts.comm?.primary ?? true;
    // Refused here, while the ranks still compare their starts (AlexNet's hidden FC layers have 4096 units).
    if (opts.comm && this.config.parallel === 'hybrid')
      checkHybridWidths([{ name: 'FC8 (--num-classes)', units: this.config.numClasses }], opts.comm.size);
  }

  private say(line: string): void {
    if (this.primary) this.out.write(line + '\n');
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
    if (this.primary) {
      mkdirSync(this.store.dir, { recursive: true });
      this.store.cleanStale();
    }
    setBackend(c.backend, { threads: c.threads ?? undefined, precision: c.precision });
    manualSeed(c.seed);
    this.data = this.opts.data ?? openRunData(c.data, c.inChannels === 1 ? 1 : 3, c.strict);
    if (c.meanImageFile) {
      const fromCheckpoint = this.opts.resume?.tensors.get('norm/mean_image');
      if (fromCheckpoint) {
        const [ch, h, w, ...rest] = fromCheckpoint.shape;
        if (ch === undefined || h === undefined || w === undefined || rest.length)
          throw new ShapeError(`checkpoint: norm/mean_image has shape ${shapeText(fromCheckpoint.shape)}, expected [C, H, W]`);
        this.meanImage = { data: fromCheckpoint.data, shape: [ch, h, w] };
      } else if (this.opts.comm && !this.primary) {
        this.meanImage = await this.meanImageFromRank0();
      } else {
        this.say(`computing the per-pixel mean image over ${this.data.train.length} training images (saved as ${c.meanImageFile})`);
        const prep = isPrepared(this.data.train);
        this.meanImage = await meanImageCached(join(this.runDir, c.meanImageFile), this.data.train, {
          transforms: prep ? [T.toTensor()] : [T.resize(256), T.centerCrop(256), T.toTensor()],
          workers: c.workers,
          broken: this.data.broken,
        });
        if (this.opts.comm) await this.opts.comm.broadcast(this.meanImage.data, 0);
      }
    }
    const resolve = (f: string): string => join(this.runDir, f);
    const mean = this.meanImage ?? undefined;
    const trainT = materialize(c.trainTransforms, resolve, mean);
    const evalT = materialize(c.tenCrop ? tenCropTransforms(c.evalTransforms) : c.evalTransforms, resolve, mean);
    const comm = this.opts.comm;
    this.trainLoader = new DataLoader(this.data.train, {
      batchSize: c.batchSize,
      shuffle: true,
      seed: c.seed,
      sampler: comm ? new DistributedSampler(this.data.train.length, c.seed, comm.rank, comm.size) : undefined,
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
      const [features] = this.model.namedChildren();
      if (!features) throw new Error(`${c.arch} has no layers`);
      for (const [name, p] of this.model.namedParameters()) if (name.startsWith(features[0] + '.')) p.requiresGrad = false;
      params = params.filter((p) => p.requiresGrad);
    }
    this.sgd = new SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
    if (c.schedule === 'step') this.stepLr = new StepLR(this.sgd, c.stepSize, c.gamma);
    if (c.schedule === 'plateau') this.plateau = new ReduceLROnPlateau(this.sgd, { mode: 'min', factor: 0.1, patience: c.patience });
    this.state = {
      epoch: 0,
      batch: 0,
      step: 0,
      epochAccum: noTotals(),
      best: null,
      elapsedS: 0,
      trainImages: 0,
      trainS: 0,
      finished: false,
      stoppedEarly: null,
    };
    if (this.opts.resume) this.restore(this.opts.resume);
    else if (this.primary) {
      writeFileSync(join(this.runDir, 'config.json'), JSON.stringify(c, null, 2) + '\n');
      this.log.truncate(0, 0);
    }
    if (comm) {
      this.parallel =
        c.parallel === 'hybrid'
          ? new HybridParallel(comm, this.model, this.sgd, c.seed, c.gradDtype)
          : new DataParallel(comm, this.model, params, c.seed, c.gradDtype);
      await this.parallel.broadcastWeights();
    }
  }

  /** Rank 0's mean image, received by the other ranks of an MPI job. */
  private async meanImageFromRank0(): Promise<MeanImage> {
    const shape: [number, number, number] = [this.config.inChannels, 256, 256];
    const data = new Float32Array(shape[0] * shape[1] * shape[2]);
    await this.opts.comm?.broadcast(data, 0);
    return { data, shape };
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
    if (!this.primary) return;
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
    if (this.primary) this.log.truncate(m.step, m.epoch);
  }

  // ---- the loop ------------------------------------------------------------------------------

  private interrupted(): number {
    this.saveCheckpoint();
    this.say(
      `interrupted by ${this.stop.cause ?? 'a signal on another rank'}: checkpoint written to ${this.store.lastPath} (epoch ${this.state.epoch + 1}, batch ${this.state.batch}); continue with --resume ${this.runDir}`,
    );
    return 130;
  }

  /** Runs (or continues) the training; returns the process exit code (0, 1 on NaN, 130 on a signal). */
  async run(): Promise<number> {
    this.stop = new StopPolicy(
      this.config,
      () => this.elapsed(),
      () => this.data.val.length,
    );
    const stopListening = this.stop.listen(this.opts.comm ? ['SIGUSR2'] : []);
    // Under MPI, Ctrl-C on mpirun reaches the ranks as a SIGCONT, with SIGKILL two timeouts behind.
    const abortListening = this.opts.comm
      ? onMpirunAbort(() => this.stop.request('SIGCONT', 'Ctrl-C on mpirun', 'mpirun sends SIGKILL after 2 x odls_base_sigkill_timeout'))
      : () => {};
    try {
      await this.setup();
      return await this.loop();
    } finally {
      stopListening();
      abortListening();
      await this.trainLoader?.close();
      await this.valLoader?.close();
    }
  }

  private async loop(): Promise<number> {
    if (this.opts.resume && !this.announceResume()) return 0;
    this.describeStart();
    const epoch = this.epochContext();
    while (this.state.epoch < this.config.epochs) {
      const end = await trainEpoch(epoch);
      if (end.kind === 'diverged') return this.diverged(end.loss, end.batch);
      // Hybrid: the whole model on every rank for validation, and rank 0's optimiser state for checkpoints.
      this.parallel?.syncModel();
      if (end.kind === 'signal') return this.interrupted();
      const val = await this.validate();
      if (!val) return this.interrupted();
      this.endEpoch(val.result, val.seconds, end.kind === 'limit' ? end.reason : null);
      await this.writePlots();
      if (end.kind === 'limit') {
        this.say(`stopping: ${this.state.stoppedEarly}`);
        break;
      }
      if (this.stop.signal) {
        this.say(
          `interrupted by ${this.stop.cause ?? 'a signal on another rank'} after epoch ${this.state.epoch}: checkpoint written; continue with --resume ${this.runDir}`,
        );
        return 130;
      }
    }
    await this.finish();
    return 0;
  }

  /** Says where a resumed run continues; false when it is already complete. */
  private announceResume(): boolean {
    if (this.state.finished) {
      this.say(`run in ${this.runDir} is already complete (${this.state.epoch} epochs); nothing to resume`);
      return false;
    }
    this.say(`resuming ${this.runDir} at epoch ${this.state.epoch + 1}, batch ${this.state.batch} (step ${this.state.step})`);
    return true;
  }

  private describeStart(): void {
    const be = getBackend();
    const lines = startLines(this.config, {
      parameters: this.model.parameterCount(),
      dataName: this.data.name,
      trainImages: this.data.train.length,
      valImages: this.data.val.length,
      backend: be.name,
      precision: be.precision,
      runDir: this.runDir,
    });
    for (const line of lines) this.say(line);
  }

  /** What an epoch's training works on (the state is updated in place). */
  private epochContext(): EpochContext {
    return {
      config: this.config,
      model: this.model,
      sgd: this.sgd,
      loader: this.trainLoader,
      state: this.state,
      log: this.log,
      stop: this.stop,
      out: this.out,
      elapsed: () => this.elapsed(),
      checkpoint: () => {
        this.parallel?.syncModel();
        this.saveCheckpoint();
      },
      parallel: this.parallel,
      primary: this.primary,
    };
  }

  /** The validation pass (null when a signal stopped it). */
  private async validate(): Promise<{ result: EvalResult; seconds: number } | null> {
    const t0 = performance.now();
    const result = await evaluate(this.model, this.valLoader, this.config.classes, { shouldStop: () => this.stop.signal !== null });
    const seconds = (performance.now() - t0) / 1000;
    this.stop.evaluated(seconds);
    return result ? { result, seconds } : null;
  }

  /** Closes an epoch: schedules, its record and line, the checkpoint (and the best one). `limit`: why training stopped in it. */
  private endEpoch(val: EvalResult, evalS: number, limit: string | null): void {
    const c = this.config;
    const epoch = this.state.epoch + 1;
    const totals = this.state.epochAccum;
    const record = epochRecord({
      epoch,
      step: this.state.step,
      totals,
      val,
      lr: this.sgd.lr,
      evalS,
      time: this.elapsed(),
      batchesTotal: this.trainLoader.numBatches,
    });
    if (this.stepLr) this.stepLr.step();
    if (this.plateau) this.plateau.step(1 - val.top1);
    const isBest = !this.state.best || val.top1 > this.state.best.top1;
    if (isBest) this.state.best = { top1: val.top1, epoch };
    this.state.epoch = epoch;
    this.state.batch = 0;
    this.state.epochAccum = noTotals();
    if (limit) {
      this.state.finished = true;
      this.state.stoppedEarly = `${limit} in epoch ${epoch} after ${totals.batches}/${record.batches_total} batches`;
    }
    if (this.state.epoch >= c.epochs) this.state.finished = true;
    this.saveCheckpoint();
    if (this.primary) {
      if (isBest) this.store.markLastAsBest();
      this.log.append(record);
      this.log.writeCsv();
    }
    this.say(epochLine(c.epochs, record, isBest));
  }

  private diverged(loss: number, batch: number): number {
    if (!this.primary) return 1;
    const good = existsSync(this.store.lastPath)
      ? `the last good checkpoint is kept: ${this.store.lastPath}`
      : 'no checkpoint was written yet';
    process.stderr.write(
      `alexnet: training diverged: the loss is ${loss} at epoch ${this.state.epoch + 1}, batch ${batch} (step ${this.state.step + 1}); stopping (try a lower --lr); ${good}\n`,
    );
    return 1;
  }

  private async writePlots(): Promise<void> {
    if (!this.primary) return;
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
    const [conv1] = this.model.parameters();
    if (!conv1) throw new Error(`${this.config.arch} has no parameters`);
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
    if (!this.primary) return;
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
    for (const line of doneLines({
      epochs: epochs.length,
      last,
      wallS: summary.wall_s,
      imgPerS: summary.img_per_s,
      backend: summary.backend,
      precision: summary.precision,
      quickStart: c.quickStart,
    }))
      this.say(line);
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
        const name = (k: number): string => c.classes[k] ?? String(k);
        b.y.forEach((label, i) => {
          const top = topkIndices(probs, i, nc, 3);
          const mark = top[0] === label ? 'ok   ' : 'wrong';
          const guesses = top.map((k) => `${name(k)} ${(100 * (probs[i * nc + k] ?? 0)).toFixed(1)}%`).join(', ');
          this.say(`  ${mark} ${basename(val.sourceOf(b.indices[i] ?? -1))}: true ${name(label)}; predicted ${guesses}`);
        });
        break;
      }
    } finally {
      await loader.close();
    }
  }
}
