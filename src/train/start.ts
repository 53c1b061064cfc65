// Starting `alexnet train` from the command line's choices: a new run (its data, recipe, config
// and run directory) or a resumed one (its checkpoint, with the resumable options given now). The
// run directory is locked before anything in it is read or written, and released at the end.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { defaultBackendName } from '../backend/registry.js';
import { nativeHasBf16 } from '../backend/native/load.js';
import { mpiLaunch } from '../distributed/environment.js';
import { trainDistributed } from '../distributed/launch.js';
import type { Communicator } from '../distributed/communicator.js';
import { DataError, UsageError } from '../errors.js';
import { checkWeightsName, resolveWeightsArg } from '../io/pretrained.js';
import type { ArchName } from '../models/index.js';
import { CheckpointStore, readCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkCheckpointMeta } from './checkpoint_meta.js';
import { completeConfig, resolveConfig, type TrainConfig } from './config.js';
import { isPrepared, openRunData, recipeTransforms, resolveDataSpec } from './data.js';
import { changesPlan, TRAIN_OPTIONS, type OptionChoices } from './options.js';
import { RunLock } from './run_lock.js';
import { Trainer, type CheckpointMeta } from './trainer.js';

/** The command's own options (the table's are in OptionChoices). */
export interface StartFlags {
  dataset?: string;
  train?: string;
  val?: string;
  out?: string;
  resume?: string;
  recipe?: 'paper' | 'torchvision';
  preset?: 'd2l';
  grayscale?: boolean;
}

/** A run about to start: its directory, what to fetch first, and the trainer to open once the directory is locked. */
interface Planned {
  runDir: string;
  /** Downloads named --pretrained weights (before the lock, so Ctrl-C there leaves no run behind). */
  fetch?: () => Promise<void>;
  open: (dist?: { comm: Communicator; out?: NodeJS.WriteStream }) => Trainer;
}

/** Trains (a new run, or --resume); returns the exit code. */
export async function startTraining(data: string | undefined, flags: StartFlags, chosen: OptionChoices): Promise<number> {
  const plan = async (): Promise<Planned> => {
    const planned = flags.resume ? planResume(flags.resume, flags.out, chosen) : planNew(data, flags, chosen);
    await planned.fetch?.();
    return planned;
  };
  // Started by mpirun: this process is one rank of a distributed run.
  if (mpiLaunch()) return trainDistributed(plan, (dir) => RunLock.take(dir));
  if (chosen.parallel !== undefined)
    throw new UsageError(
      `--parallel ${chosen.parallel} needs an MPI launch (mpirun -np N alexnet train …); a single process trains the whole model itself`,
    );
  const planned = await plan();
  const lock = RunLock.take(planned.runDir);
  try {
    return await planned.open().run();
  } finally {
    lock.release();
  }
}

function defaultRunDir(config: { arch: ArchName }, dataset: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = dataset === 'fashion-mnist' ? 'fashion-mnist' : basename(resolve(dataset, '..')) || 'data';
  return join('runs', `${config.arch}-${name}-${stamp}`);
}

function planNew(data: string | undefined, flags: StartFlags, chosen: OptionChoices): Planned {
  const spec = resolveDataSpec({
    data,
    train: flags.train,
    val: flags.val,
    dataset: flags.dataset ?? (data || flags.train ? undefined : 'fashion-mnist'),
  });
  const grayscale = spec.kind === 'fashion-mnist' ? flags.grayscale : (flags.grayscale ?? false);
  const runData = openRunData(spec, grayscale ? 1 : 3, chosen.strict ?? false);
  const native = (chosen.backend ?? defaultBackendName()) === 'native';
  const choices = { ...chosen, recipe: flags.recipe, preset: flags.preset, grayscale };
  const base = resolveConfig(choices, spec, runData.classes, { bf16: native && nativeHasBf16() });
  const meanImageFile = base.recipe === 'paper' ? 'mean_image.npy' : null;
  const meanShape: [number, number, number] | undefined = meanImageFile ? [base.inChannels, 256, 256] : undefined;
  const { train, eval: evalT } = recipeTransforms(base.recipe, {
    inputSize: base.inputSize,
    inChannels: base.inChannels,
    prepared: isPrepared(runData.train),
    meanImageFile: meanImageFile ?? undefined,
    meanShape,
  });
  const config: TrainConfig = { ...base, trainTransforms: train, evalTransforms: evalT, meanImageFile };
  const runDir = flags.out ?? defaultRunDir(config, spec.kind === 'fashion-mnist' ? 'fashion-mnist' : spec.train);
  const pretrained = config.pretrained;
  if (pretrained) checkWeightsName(pretrained, config.arch, '--pretrained');
  return {
    runDir,
    // A weights name (--pretrained torchvision) becomes its file in torch.hub's cache, which config.json records.
    fetch: async () => {
      if (pretrained) config.pretrained = await resolveWeightsArg(pretrained, config.arch, { option: '--pretrained' });
    },
    open: (dist) => {
      if (existsSync(join(runDir, 'checkpoints', 'last.ckpt')))
        throw new UsageError(`${runDir} already holds a run: continue it with --resume ${runDir}, or choose another --out`);
      return new Trainer({ config, runDir, data: runData, ...dist });
    },
  };
}

/** --resume TARGET: TARGET is a run directory, or a checkpoint file (its run: the folder above checkpoints/, or --out). */
function planResume(target: string, out: string | undefined, chosen: OptionChoices): Planned {
  if (!existsSync(target)) throw new DataError(`--resume: ${target} does not exist`);
  const isDir = statSync(target).isDirectory();
  const runDir = isDir ? target : (out ?? (basename(dirname(target)) === 'checkpoints' ? dirname(dirname(target)) : dirname(target)));
  return {
    runDir,
    open: (dist) => {
      const read = isDir ? newestCheckpoint(target) : { checkpoint: readCheckpoint<Record<string, unknown>>(target), path: target };
      const meta = checkCheckpointMeta(read.checkpoint.meta, read.path, runDir);
      const checkpoint: Checkpoint<CheckpointMeta> = { ...read.checkpoint, meta };
      return new Trainer({ config: resumedConfig(meta, chosen), runDir, resume: checkpoint, ...dist });
    },
  };
}

function newestCheckpoint(runDir: string): { checkpoint: Checkpoint<Record<string, unknown>>; path: string } {
  const store = new CheckpointStore(join(runDir, 'checkpoints'));
  const found = store.loadNewest<Record<string, unknown>>();
  if (!found) throw new DataError(`--resume: ${runDir} has no checkpoint (expected ${store.lastPath})`);
  for (const r of found.rejected) process.stderr.write(`alexnet: skipping unusable checkpoint: ${r}\n`);
  return { checkpoint: found.checkpoint, path: found.path };
}

/** The config of a resumed run: its own, with the resumable options given now. */
function resumedConfig(meta: CheckpointMeta, chosen: OptionChoices): TrainConfig {
  const config = completeConfig(meta.config);
  if (chosen.epochs !== undefined && chosen.epochs !== config.epochs) {
    if (chosen.epochs < meta.epoch) throw new UsageError(`--epochs ${chosen.epochs}: the run has already completed ${meta.epoch} epochs`);
    meta.finished = meta.epoch >= chosen.epochs;
  }
  for (const o of TRAIN_OPTIONS) {
    const value = chosen[o.key];
    if (o.resumable && value !== undefined) (config as unknown as Record<string, unknown>)[o.key] = value;
  }
  if (changesPlan(chosen)) config.quickStart = false;
  meta.config = config;
  return config;
}
