// `alexnet train [DATA]`: train an AlexNet on an image folder (DATA/train, DATA/val), a prepared
// file, or Fashion-MNIST (--dataset fashion-mnist, the Quick start), with the paper's or
// torchvision's recipe; --resume RUN_DIR|CHECKPOINT continues a run exactly where it stopped.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { DataError, UsageError } from '../../errors.js';
import { defaultBackendName, nativeHasBf16 } from '../../backend/registry.js';
import type { ArchName } from '../../models/index.js';
import { CheckpointStore, readCheckpoint, type Checkpoint } from '../../train/checkpoint.js';
import { resolveConfig, type TrainConfig } from '../../train/config.js';
import { isPrepared, openRunData, recipeTransforms, resolveDataSpec } from '../../train/data.js';
import { changesPlan, helpText, TRAIN_OPTIONS, type OptionChoices } from '../../train/options.js';
import { RECIPES } from '../../train/recipes.js';
import { RunLock } from '../../train/run_lock.js';
import { Trainer, type CheckpointMeta } from '../../train/trainer.js';
import { parseChoice } from '../args.js';

interface TrainFlags {
  dataset?: string;
  train?: string;
  val?: string;
  out?: string;
  resume?: string;
  recipe?: 'paper' | 'torchvision';
  preset?: 'd2l';
  grayscale?: boolean;
}

/** The command's own options that --resume accepts (besides the table's resumable ones). */
const RESUME_FLAGS = new Set(['--resume', '--out']);

function defaultRunDir(config: { arch: ArchName }, dataset: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = dataset === 'fashion-mnist' ? 'fashion-mnist' : basename(resolve(dataset, '..')) || 'data';
  return join('runs', `${config.arch}-${name}-${stamp}`);
}

/** The run directory of --resume TARGET: TARGET itself, or the run of a checkpoint file (or --out). */
function resumeRunDir(target: string, out?: string): string {
  if (!existsSync(target)) throw new DataError(`--resume: ${target} does not exist`);
  if (statSync(target).isDirectory()) return target;
  return out ?? (basename(dirname(target)) === 'checkpoints' ? dirname(dirname(target)) : dirname(target));
}

/** The checkpoint to resume from: a run directory's newest good one, or the given file. */
function loadResume(target: string): Checkpoint<CheckpointMeta> {
  let checkpoint: Checkpoint<CheckpointMeta>;
  if (statSync(target).isDirectory()) {
    const store = new CheckpointStore(join(target, 'checkpoints'));
    const found = store.loadNewest<CheckpointMeta>();
    if (!found) throw new DataError(`--resume: ${target} has no checkpoint (expected ${store.lastPath})`);
    for (const r of found.rejected) process.stderr.write(`alexnet: skipping unusable checkpoint: ${r}\n`);
    checkpoint = found.checkpoint;
  } else {
    checkpoint = readCheckpoint<CheckpointMeta>(target);
  }
  if (checkpoint.meta.kind !== 'alexnet-train-checkpoint') throw new DataError(`--resume: ${target} is not a training checkpoint`);
  return checkpoint;
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train an AlexNet (image folder DATA/{train,val}, a prepared file, or --dataset fashion-mnist)')
    .argument('[data]', 'dataset folder with train/ and val/ (or a prepared file)')
    .option('--dataset <name>', "fashion-mnist or fashion-mnist=DIR (IDX files; default Debian's /usr/share/datasets/fashion-mnist)")
    .option('--train <dir>', 'training image folder or prepared file')
    .option('--val <dir>', 'validation image folder or prepared file')
    .option(
      '--recipe <name>',
      "paper | torchvision (default: torchvision's; the quick start for Fashion-MNIST)",
      parseChoice(['paper', 'torchvision'] as const),
    )
    .option(
      '--preset <name>',
      `d2l: the textbook Fashion-MNIST run (${RECIPES.d2l.arch}, ${RECIPES.d2l.inputSize(RECIPES.d2l.arch)} input, lr ${RECIPES.d2l.lr}, batch ${RECIPES.d2l.batchSize}, ${RECIPES.d2l.epochs} epochs)`,
      parseChoice(['d2l'] as const),
    )
    .option('--grayscale', 'decode images as one channel (Fashion-MNIST is one channel already)')
    .option('--out <dir>', 'run directory (default runs/<arch>-<data>-<time>)')
    .option('--resume <path>', 'continue a run: its RUN_DIR or a checkpoint file');
  const table = TRAIN_OPTIONS.flatMap((o) => {
    if (!o.flag) return [];
    const option = new Option(o.flag, helpText(o));
    if (o.parse) option.argParser<unknown>(o.parse);
    cmd.addOption(option);
    return [{ spec: o, option }];
  });
  cmd.action(async (data: string | undefined, flags: TrainFlags) => {
    const chosen: OptionChoices = {};
    for (const { spec, option } of table) {
      const value: unknown = cmd.getOptionValue(option.attributeName());
      if (value !== undefined) (chosen as Record<string, unknown>)[spec.key] = value;
    }
    let lock: RunLock | undefined;
    try {
      let trainer: Trainer;
      if (flags.resume) {
        const resumable = new Set([...RESUME_FLAGS, ...table.filter((t) => t.spec.resumable).map((t) => t.option.long)]);
        const given = cmd.options.filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli' && !resumable.has(o.long));
        if (data || given.length)
          throw new UsageError(`--resume continues the run with its own settings; drop ${data ? 'DATA' : given[0]?.long}`);
        const runDir = resumeRunDir(flags.resume, flags.out);
        lock = RunLock.take(runDir);
        const checkpoint = loadResume(flags.resume);
        const config = resumedConfig(checkpoint.meta, chosen);
        trainer = new Trainer({ config, runDir, resume: checkpoint });
      } else {
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
        lock = RunLock.take(runDir);
        if (existsSync(join(runDir, 'checkpoints', 'last.ckpt'))) {
          throw new UsageError(`${runDir} already holds a run: continue it with --resume ${runDir}, or choose another --out`);
        }
        trainer = new Trainer({ config, runDir, data: runData });
      }
      process.exitCode = await trainer.run();
    } finally {
      lock?.release();
    }
  });
}

/** The config of a resumed run: its own, with the resumable options given now. */
function resumedConfig(meta: CheckpointMeta, chosen: OptionChoices): TrainConfig {
  // Runs from before the quick start flag: their target line is not printed.
  const config: TrainConfig = { ...meta.config, quickStart: meta.config.quickStart ?? false };
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
