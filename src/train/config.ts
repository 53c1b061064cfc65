// A run's configuration: everything needed to reproduce it, saved as RUN_DIR/config.json and
// inside every checkpoint. resolveConfig turns command-line choices into a full config: the
// recipe (`paper`, `torchvision`, the Fashion-MNIST quick start, the d2l textbook preset) gives
// the defaults of the options table (options.ts).
import type { Precision } from '../backend/backend.js';
import type { BackendName } from '../backend/registry.js';
import { UsageError } from '../errors.js';
import type { ArchName, InitScheme } from '../models/index.js';
import type { DataSpec, Recipe, StoredTransform } from './data.js';
import { changesPlan, resolveOptions, type OptionChoices } from './options.js';
import { RECIPES } from './recipes.js';

export { RECIPES } from './recipes.js';

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
  /** Under MPI: the type gradients are all-reduced in. */
  gradDtype: 'f32' | 'bf16';
  /** Under MPI: data parallelism (ddp) or Krizhevsky's hybrid (FC layers split over the ranks). */
  parallel: 'ddp' | 'hybrid';
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
  /** The Fashion-MNIST quick start as planned (no option changed its plan): its target is checked at the end. */
  quickStart: boolean;
}

/** The fields not in the options table: set from the data and the recipe by resolveConfig (and the caller). */
export type DerivedKey =
  'recipe' | 'data' | 'classes' | 'inChannels' | 'trainTransforms' | 'evalTransforms' | 'meanImageFile' | 'quickStart';

/** What the command line may set: the table's options, and the recipe and channels. */
export interface TrainChoices extends OptionChoices {
  recipe?: 'paper' | 'torchvision';
  preset?: 'd2l';
  grayscale?: boolean;
}

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

/**
 * A saved config (config.json, a checkpoint's) with the fields added since it was written filled
 * in: the table's defaults for its recipe, and no quick start target.
 */
export function completeConfig(saved: TrainConfig): TrainConfig {
  const options = resolveOptions({
    recipe: saved.recipe,
    defaults: RECIPES[saved.recipe],
    data: saved.data,
    classes: saved.classes,
    hardware: { bf16: false },
    chosen: saved,
  });
  return { ...saved, ...options, quickStart: saved.quickStart ?? false };
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
  const defaults = RECIPES[recipe];
  if (recipe === 'd2l' && choices.arch && choices.arch !== 'alexnet-v1')
    throw new UsageError('--preset d2l uses alexnet-v1 layers; leave --arch out');
  const options = resolveOptions({ recipe, defaults, data, classes, hardware, chosen: choices });
  const { numClasses } = options;
  if (numClasses < classes.length)
    throw new UsageError(`--num-classes ${numClasses} is less than the ${classes.length} classes in the data`);
  if (options.freeze === 'features' && !options.pretrained)
    throw new UsageError('--freeze features needs --pretrained FILE (frozen random features learn nothing)');
  const inChannels = data.kind === 'fashion-mnist' ? (choices.grayscale === false ? 3 : defaults.inChannels) : choices.grayscale ? 1 : 3;
  return {
    ...options,
    recipe,
    data,
    classes:
      numClasses === classes.length
        ? classes
        : [...classes, ...Array.from({ length: numClasses - classes.length }, (_, i) => `class_${classes.length + i}`)],
    inChannels,
    quickStart: recipe === 'fashion-mnist' && !changesPlan(choices),
  };
}
