// The training recipes: the defaults each one gives the options of `alexnet train` (the table in
// options.ts says which options take their default from here). `paper` is the 2012 paper's,
// `torchvision` the PyTorch reference scripts', `fashion-mnist` the quick start, `d2l` the Dive
// into Deep Learning textbook's Fashion-MNIST run.
import type { ArchName } from '../models/index.js';
import type { TrainConfig } from './config.js';
import type { Recipe } from './data.js';

/** The fields every recipe sets (a new one here must be set by all four recipes). */
export type RecipeKey =
  | 'arch'
  | 'epochs'
  | 'batchSize'
  | 'lr'
  | 'momentum'
  | 'weightDecay'
  | 'schedule'
  | 'stepSize'
  | 'gamma'
  | 'patience'
  | 'init'
  | 'inChannels'
  | 'tenCrop'
  | 'timeLimitS'
  | 'showPredictions';

export type RecipeDefaults = Pick<TrainConfig, RecipeKey> & {
  /** The input height = width for an architecture. */
  inputSize: (arch: ArchName) => number;
  /** Train in bf16 by default where the native backend computes it (else f32). */
  preferBf16: boolean;
};

export const RECIPE_NAMES: readonly Recipe[] = ['paper', 'torchvision', 'fashion-mnist', 'd2l'];

/** How help texts name a recipe. */
export const RECIPE_TITLES: Record<Recipe, string> = {
  paper: '--recipe paper',
  torchvision: '--recipe torchvision',
  'fashion-mnist': 'the Fashion-MNIST quick start',
  d2l: '--preset d2l',
};

export const RECIPES: Record<Recipe, RecipeDefaults> = {
  // The paper: SGD batch 128, momentum 0.9, weight decay 5e-4, lr 0.01 divided by 10 when the
  // validation error stops improving, about 90 epochs, its initialisation, ten-crop testing.
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
    preferBf16: false,
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
    preferBf16: false,
  },
  // The quick start: ≥ 90% test accuracy on Fashion-MNIST within 10 minutes on a 2-core CPU. The
  // paper's layers in one tower (alexnet-v1) with one input channel, at the smallest input its
  // pooling allows (65×65, FC6 sized for it, as the d2l textbook sizes it for 224); SGD with
  // momentum and the learning rate decayed linearly to 0 per step; bf16 where the CPU computes it
  // natively. torchvision's `alexnet` also trains at 63×63 (--arch alexnet), but its adaptive pool
  // copies a 1×1 map 36 times into a 9216-wide FC6: about twice the work per image. The time
  // limit stops training early enough for the evaluation and the final files to fit in 10 minutes.
  'fashion-mnist': {
    arch: 'alexnet-v1',
    epochs: 4,
    batchSize: 64,
    lr: 0.02,
    momentum: 0.9,
    weightDecay: 5e-4,
    schedule: 'linear',
    stepSize: 2,
    gamma: 0.1,
    patience: 2,
    init: 'pytorch',
    inChannels: 1,
    inputSize: (a) => (a === 'alexnet' ? 63 : 65),
    tenCrop: false,
    timeLimitS: 570,
    showPredictions: 8,
    preferBf16: true,
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
    preferBf16: false,
  },
};
