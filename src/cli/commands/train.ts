// `alexnet train [DATA]`: train an AlexNet on an image folder (DATA/train, DATA/val), a prepared
// file, or Fashion-MNIST (--dataset fashion-mnist, the Quick start), with the paper's or
// torchvision's recipe; --resume RUN_DIR|CHECKPOINT continues a run exactly where it stopped.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { DataError, UsageError } from '../../errors.js';
import { defaultBackendName, nativeHasBf16 } from '../../backend/registry.js';
import type { ArchName } from '../../models/index.js';
import { CheckpointStore, readCheckpoint, type Checkpoint } from '../../train/checkpoint.js';
import { resolveConfig, type TrainChoices, type TrainConfig } from '../../train/config.js';
import { isPrepared, openRunData, recipeTransforms, resolveDataSpec } from '../../train/data.js';
import { Trainer, type CheckpointMeta } from '../../train/trainer.js';
import { parseArch, parseChoice, parseNonNegativeNumber, parsePositiveInt } from '../args.js';

interface TrainFlags extends TrainChoices {
  dataset?: string;
  train?: string;
  val?: string;
  out?: string;
  resume?: string;
}

function parsePositiveNumber(value: string): number {
  const n = parseNonNegativeNumber(value);
  if (n === 0) throw new InvalidArgumentError(`expected a positive number, got '${value}'`);
  return n;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new InvalidArgumentError(`expected an integer seed in [0, 2^32), got '${value}'`);
  return n;
}

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${value}'`);
  return n;
}

/** Options that may change on --resume without changing the run's arithmetic. */
const RESUMABLE = new Set(['resume', 'epochs', 'workers', 'threads', 'maxSteps', 'checkpointEvery', 'timeLimit', 'out', 'backend']);

function defaultRunDir(config: { arch: ArchName }, dataset: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = dataset === 'fashion-mnist' ? 'fashion-mnist' : basename(resolve(dataset, '..')) || 'data';
  return join('runs', `${config.arch}-${name}-${stamp}`);
}

/** Finds the checkpoint to resume from: a run directory's newest good one, or a given file. */
function loadResume(target: string, out?: string): { runDir: string; checkpoint: Checkpoint<CheckpointMeta> } {
  if (!existsSync(target)) throw new DataError(`--resume: ${target} does not exist`);
  let runDir: string;
  let checkpoint: Checkpoint<CheckpointMeta>;
  if (statSync(target).isDirectory()) {
    runDir = target;
    const store = new CheckpointStore(join(target, 'checkpoints'));
    const found = store.loadNewest<CheckpointMeta>();
    if (!found) throw new DataError(`--resume: ${target} has no checkpoint (expected ${store.lastPath})`);
    for (const r of found.rejected) process.stderr.write(`alexnet: skipping unusable checkpoint: ${r}\n`);
    checkpoint = found.checkpoint;
  } else {
    checkpoint = readCheckpoint<CheckpointMeta>(target);
    runDir = out ?? (basename(dirname(target)) === 'checkpoints' ? dirname(dirname(target)) : dirname(target));
  }
  if (checkpoint.meta.kind !== 'alexnet-train-checkpoint') throw new DataError(`--resume: ${target} is not a training checkpoint`);
  return { runDir, checkpoint };
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train an AlexNet (image folder DATA/{train,val}, a prepared file, or --dataset fashion-mnist)')
    .argument('[data]', 'dataset folder with train/ and val/ (or a prepared file)')
    .option('--dataset <name>', "fashion-mnist or fashion-mnist=DIR (IDX files; default Debian's /usr/share/datasets/fashion-mnist)")
    .option('--train <dir>', 'training image folder or prepared file')
    .option('--val <dir>', 'validation image folder or prepared file')
    .option('--arch <name>', 'alexnet | alexnet-v1 | alexnet-2012 (default from the recipe)', parseArch)
    .option('--num-classes <n>', 'output classes (default: the classes in the data)', parsePositiveInt)
    .option(
      '--input-size <n>',
      "input height = width (default: the architecture's, 63 for the Fashion-MNIST quick start)",
      parsePositiveInt,
    )
    .option('--epochs <n>', 'epochs to train', parsePositiveInt)
    .option('--batch-size <n>', 'images per SGD step', parsePositiveInt)
    .option('--lr <x>', 'learning rate', parsePositiveNumber)
    .option('--momentum <x>', 'SGD momentum', parseNonNegativeNumber)
    .option('--weight-decay <x>', 'L2 weight decay', parseNonNegativeNumber)
    .option(
      '--schedule <kind>',
      'step | plateau | linear (to 0 over the run, per step) | none',
      parseChoice(['step', 'plateau', 'linear', 'none'] as const),
    )
    .option('--step-size <n>', 'epochs between learning-rate decays (step schedule)', parsePositiveInt)
    .option('--patience <n>', 'epochs without improvement before ÷10 (plateau schedule)', parsePositiveInt)
    .option('--recipe <name>', 'paper | torchvision (DESIGN §3)', parseChoice(['paper', 'torchvision'] as const))
    .option(
      '--preset <name>',
      'd2l: the textbook Fashion-MNIST run (alexnet-v1, 224 input, lr 0.01, batch 128, 10 epochs)',
      parseChoice(['d2l'] as const),
    )
    .option('--precision <p>', 'f32 | bf16 (native backend)', parseChoice(['f32', 'bf16'] as const))
    .option('--backend <name>', 'native | reference', parseChoice(['native', 'reference'] as const))
    .option('--threads <n>', 'compute threads (native backend)', parsePositiveInt)
    .option('--workers <n>', 'data-loading worker threads', parseWorkers)
    .option('--seed <n>', 'seed for initialisation, order, augmentation and dropout', parseSeed)
    .option('--out <dir>', 'run directory (default runs/<arch>-<data>-<time>)')
    .option('--resume <path>', 'continue a run: its RUN_DIR or a checkpoint file')
    .option(
      '--pretrained <file>',
      'start from these weights (.pth, .safetensors, .ckpt); the last layer is replaced when the class count differs',
    )
    .option('--freeze <part>', 'features: train only the classifier', parseChoice(['features'] as const))
    .option('--ten-crop', 'evaluate on ten crops, averaging softmax (default with --recipe paper)')
    .option('--grayscale', 'decode images as one channel (Fashion-MNIST is one channel already)')
    .option('--max-steps <n>', 'stop after this many SGD steps in total', parsePositiveInt)
    .option('--checkpoint-every <n>', 'also write a checkpoint every n steps within an epoch', parsePositiveInt)
    .option('--time-limit <seconds>', 'stop training early enough to finish within this many seconds', parsePositiveNumber)
    .option('--strict', 'stop at the first broken image instead of skipping it')
    .action(async (data: string | undefined, flags: TrainFlags, cmd: Command) => {
      let trainer: Trainer;
      if (flags.resume) {
        const given = Object.keys(flags).filter((k) => cmd.getOptionValueSource(k) === 'cli' && !RESUMABLE.has(k));
        if (data || given.length)
          throw new UsageError(
            `--resume continues the run with its own settings; drop ${data ? 'DATA' : '--' + given[0].replace(/[A-Z]/g, (m) => '-' + m.toLowerCase())}`,
          );
        const { runDir, checkpoint } = loadResume(flags.resume, flags.out);
        const meta = checkpoint.meta;
        const config: TrainConfig = { ...meta.config };
        if (flags.epochs !== undefined && flags.epochs !== config.epochs) {
          if (flags.epochs < meta.epoch)
            throw new UsageError(`--epochs ${flags.epochs}: the run has already completed ${meta.epoch} epochs`);
          config.epochs = flags.epochs;
          meta.finished = meta.epoch >= flags.epochs;
        }
        if (flags.workers !== undefined) config.workers = flags.workers;
        if (flags.threads !== undefined) config.threads = flags.threads;
        if (flags.backend !== undefined) config.backend = flags.backend;
        if (flags.maxSteps !== undefined) config.maxSteps = flags.maxSteps;
        if (flags.checkpointEvery !== undefined) config.checkpointEvery = flags.checkpointEvery;
        if (flags.timeLimit !== undefined) config.timeLimitS = flags.timeLimit;
        meta.config = config;
        trainer = new Trainer({ config, runDir, resume: checkpoint });
      } else {
        const spec = resolveDataSpec({
          data,
          train: flags.train,
          val: flags.val,
          dataset: flags.dataset ?? (data || flags.train ? undefined : 'fashion-mnist'),
        });
        const grayscale = spec.kind === 'fashion-mnist' ? flags.grayscale : (flags.grayscale ?? false);
        const runData = openRunData(spec, grayscale ? 1 : 3, flags.strict ?? false);
        const native = (flags.backend ?? defaultBackendName()) === 'native';
        const base = resolveConfig({ ...flags, grayscale }, spec, runData.classes, { bf16: native && nativeHasBf16() });
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
        if (existsSync(join(runDir, 'checkpoints', 'last.ckpt'))) {
          throw new UsageError(`${runDir} already holds a run: continue it with --resume ${runDir}, or choose another --out`);
        }
        trainer = new Trainer({ config, runDir, data: runData });
      }
      process.exitCode = await trainer.run();
    });
}
