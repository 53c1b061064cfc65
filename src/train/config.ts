// A run's configuration: everything needed to reproduce it, saved as RUN_DIR/config.json and
// inside every checkpoint. resolveConfig turns command-line choices into a full config using the
// recipe's defaults (DESIGN §3): `paper`, `torchvision`, the Fashion-MNIST quick start, and the
// d2l textbook preset.
import type { Precision } from '../backend/backend.js';
import { defaultBackendName, type BackendName } from '../backend/registry.js';
import { UsageError } from '../errors.js';
import type { ArchName, InitScheme } from '../models/index.js';
import type { DataSpec, Recipe, StoredTransform } from './data.js';

export type Schedule = 'step' | 'plateau' | 'linear' | 'none';

export interface TrainConfig {
  arch: ArchName;
  recipe: Recipe;
  data: DataSpec;
  numClasses: number;
  classes: string[];
  inChannels: number;
  /** Height = width of the network input. */
  inputSize: number;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: Schedule;
  /** StepLR: epochs between decays, and the factor. */
  stepSize: number;
  gamma: number;
  /** ReduceLROnPlateau on validation top-1 error: epochs without improvement before ÷10. */
  patience: number;
  init: InitScheme;
  dropout: number;
  precision: Precision;
  backend: BackendName;
  threads: number | null;
  workers: number;
  seed: number;
  /** Stop after this many optimiser steps in total (tests). */
  maxSteps: number | null;
  /** Also write a checkpoint every this many steps inside an epoch (long epochs); null: at epoch ends only. */
  checkpointEvery: number | null;
  /** Stop training in time to finish the run within this many seconds (the quick start's budget). */
  timeLimitS: number | null;
  strict: boolean;
  freeze: 'none' | 'features';
  pretrained: string | null;
  /** Evaluate on ten crops each epoch (paper recipe) instead of the center crop. */
  tenCrop: boolean;
  trainTransforms: StoredTransform[];
  evalTransforms: StoredTransform[];
  /** File (in RUN_DIR) of the per-pixel mean image, when the recipe subtracts one. */
  meanImageFile: string | null;
  /** Test images whose predictions are printed at the end. */
  showPredictions: number;
}

/** What the command line may set; unset fields come from the recipe. */
export interface TrainChoices {
  arch?: ArchName;
  recipe?: 'paper' | 'torchvision';
  preset?: 'd2l';
  numClasses?: number;
  inputSize?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  schedule?: Schedule;
  stepSize?: number;
  patience?: number;
  precision?: Precision;
  backend?: BackendName;
  threads?: number;
  workers?: number;
  seed?: number;
  maxSteps?: number;
  checkpointEvery?: number;
  timeLimit?: number;
  strict?: boolean;
  freeze?: 'features';
  pretrained?: string;
  tenCrop?: boolean;
  grayscale?: boolean;
}

interface RecipeDefaults {
  arch: ArchName;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: Schedule;
  stepSize: number;
  gamma: number;
  patience: number;
  init: InitScheme;
  inChannels: number;
  inputSize: (arch: ArchName) => number;
  tenCrop: boolean;
  timeLimitS: number | null;
  showPredictions: number;
}

/**
 * The Fashion-MNIST quick start: the paper's layers in one tower (alexnet-v1) with one input
 * channel and 10 classes, at the smallest input its pooling allows (65×65, FC6 sized for it, as
 * the d2l textbook sizes it for 224), trained with SGD + momentum, the learning rate decayed
 * linearly to 0 per step, in bf16 where the CPU computes it natively, inside a 10-minute budget
 * on a 2-core CPU. (torchvision's `alexnet` at 63×63 also works, --arch alexnet, but its adaptive
 * pool copies a 1×1 map 36 times into a 9216-wide FC6: about twice the work per image.)
 * Measured on the AMD EPYC Zen 4 (2 shared cores, AVX512_BF16): 4 epochs planned, bf16, linear decay from 0.02, stopped by the
 * 9m30s budget after 3.55 epochs: 90.23% test accuracy in 9m16s (400 img/s). With 3 epochs: 89.4%
 * in 7m07s (bf16); f32 with a ÷10 step after 2 epochs: 89.6% in 9m17s (2.7 epochs, 300 img/s).
 * On the 2-core Intel Xeon with AMX, alone: all 4 epochs, 90.94% in 7m18s (568 img/s, bf16).
 */
export const FASHION_MNIST_QUICKSTART = {
  arch: 'alexnet-v1' as ArchName,
  inputSize: 65,
  epochs: 4,
  batchSize: 64,
  lr: 0.02,
  momentum: 0.9,
  weightDecay: 5e-4,
  schedule: 'linear' as Schedule,
  stepSize: 2,
  /** bf16 where the native backend has it (AVX512_BF16 / AMX), else f32. */
  preferBf16: true,
  /** Seconds: training stops early enough for evaluation and the final files to fit in 10 minutes. */
  timeLimitS: 570,
};

export const RECIPES: Record<Recipe, RecipeDefaults> = {
  // DESIGN §3: SGD batch 128, momentum 0.9, wd 5e-4, lr 0.01 ÷10 on plateau, ~90 epochs, paper init, 10-crop test.
  paper: {
    arch: 'alexnet-2012',
    epochs: 90,
    batchSize: 128,
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 5e-4,
    schedule: 'plateau',
    stepSize: 30,
    gamma: 0.1,
    patience: 4,
    init: 'paper',
    inChannels: 3,
    inputSize: (a) => (a === 'alexnet' ? 224 : 227),
    tenCrop: true,
    timeLimitS: null,
    showPredictions: 0,
  },
  // torchvision's references/classification for alexnet: lr 0.01, wd 1e-4, StepLR(30, 0.1), 90 epochs.
  torchvision: {
    arch: 'alexnet',
    epochs: 90,
    batchSize: 128,
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 1e-4,
    schedule: 'step',
    stepSize: 30,
    gamma: 0.1,
    patience: 4,
    init: 'pytorch',
    inChannels: 3,
    inputSize: (a) => (a === 'alexnet' ? 224 : 227),
    tenCrop: false,
    timeLimitS: null,
    showPredictions: 0,
  },
  'fashion-mnist': {
    arch: FASHION_MNIST_QUICKSTART.arch,
    epochs: FASHION_MNIST_QUICKSTART.epochs,
    batchSize: FASHION_MNIST_QUICKSTART.batchSize,
    lr: FASHION_MNIST_QUICKSTART.lr,
    momentum: FASHION_MNIST_QUICKSTART.momentum,
    weightDecay: FASHION_MNIST_QUICKSTART.weightDecay,
    schedule: FASHION_MNIST_QUICKSTART.schedule,
    stepSize: FASHION_MNIST_QUICKSTART.stepSize,
    gamma: 0.1,
    patience: 2,
    init: 'pytorch',
    inChannels: 1,
    inputSize: (a) => (a === 'alexnet' ? 63 : 65),
    tenCrop: false,
    timeLimitS: FASHION_MNIST_QUICKSTART.timeLimitS,
    showPredictions: 8,
  },
  // Dive into Deep Learning §8.1: alexnet-v1 layers, 1 channel, 10 classes, 224 input, plain SGD
  // lr 0.01, batch 128, 10 epochs, Xavier-uniform weights (its train_ch6's init_weights).
  d2l: {
    arch: 'alexnet-v1',
    epochs: 10,
    batchSize: 128,
    lr: 0.01,
    momentum: 0,
    weightDecay: 0,
    schedule: 'none',
    stepSize: 30,
    gamma: 0.1,
    patience: 4,
    init: 'xavier',
    inChannels: 1,
    inputSize: () => 224,
    tenCrop: false,
    timeLimitS: null,
    showPredictions: 8,
  },
};

/** Picks the recipe: --preset d2l, --recipe, else Fashion-MNIST's quick start for --dataset fashion-mnist, else torchvision's. */
export function pickRecipe(choices: TrainChoices, data: DataSpec): Recipe {
  if (choices.preset === 'd2l') {
    if (choices.recipe) throw new UsageError('--preset d2l and --recipe cannot be combined');
    if (data.kind !== 'fashion-mnist')
      throw new UsageError('--preset d2l trains on Fashion-MNIST: use it with --dataset fashion-mnist (or without data options)');
    return 'd2l';
  }
  if (choices.recipe) return choices.recipe;
  return data.kind === 'fashion-mnist' ? 'fashion-mnist' : 'torchvision';
}

/** Fills every field from the choices and the recipe's defaults (transforms are added by the caller). */
export function resolveConfig(
  choices: TrainChoices,
  data: DataSpec,
  classes: string[],
  /** What the machine offers: bf16 in the native backend. */
  hardware: { bf16: boolean } = { bf16: false },
): Omit<TrainConfig, 'trainTransforms' | 'evalTransforms' | 'meanImageFile'> {
  const recipe = pickRecipe(choices, data);
  const d = RECIPES[recipe];
  const arch = choices.arch ?? d.arch;
  if (recipe === 'd2l' && choices.arch && choices.arch !== 'alexnet-v1')
    throw new UsageError('--preset d2l uses alexnet-v1 layers; leave --arch out');
  const numClasses = choices.numClasses ?? classes.length;
  if (numClasses < classes.length)
    throw new UsageError(`--num-classes ${numClasses} is less than the ${classes.length} classes in the data`);
  const inChannels = data.kind === 'fashion-mnist' ? (choices.grayscale === false ? 3 : d.inChannels) : choices.grayscale ? 1 : 3;
  const freeze = choices.freeze ?? 'none';
  if (freeze === 'features' && !choices.pretrained)
    throw new UsageError('--freeze features needs --pretrained FILE (frozen random features learn nothing)');
  return {
    arch,
    recipe,
    data,
    numClasses,
    classes:
      numClasses === classes.length
        ? classes
        : [...classes, ...Array.from({ length: numClasses - classes.length }, (_, i) => `class_${classes.length + i}`)],
    inChannels,
    inputSize: choices.inputSize ?? d.inputSize(arch),
    epochs: choices.epochs ?? d.epochs,
    batchSize: choices.batchSize ?? d.batchSize,
    lr: choices.lr ?? d.lr,
    momentum: choices.momentum ?? d.momentum,
    weightDecay: choices.weightDecay ?? d.weightDecay,
    schedule: choices.schedule ?? d.schedule,
    stepSize: choices.stepSize ?? d.stepSize,
    gamma: d.gamma,
    patience: choices.patience ?? d.patience,
    init: d.init,
    dropout: 0.5,
    precision: choices.precision ?? (recipe === 'fashion-mnist' && FASHION_MNIST_QUICKSTART.preferBf16 && hardware.bf16 ? 'bf16' : 'f32'),
    backend: choices.backend ?? defaultBackendName(),
    threads: choices.threads ?? null,
    workers: choices.workers ?? (data.kind === 'fashion-mnist' ? 0 : 2),
    seed: choices.seed ?? 0,
    maxSteps: choices.maxSteps ?? null,
    checkpointEvery: choices.checkpointEvery ?? null,
    // The quick start's budget applies to its own defaults; a chosen --epochs runs them all.
    timeLimitS: choices.timeLimit ?? (choices.epochs === undefined ? d.timeLimitS : null),
    strict: choices.strict ?? false,
    freeze,
    pretrained: choices.pretrained ?? null,
    tenCrop: choices.tenCrop ?? d.tenCrop,
    showPredictions: d.showPredictions,
  };
}
