// The options of `alexnet train` in one table. Each entry says, for one field of the run's config
// (config.json), its command-line flag, parser and help, its default (the recipe's, or computed),
// whether --resume may change it, and whether it is part of the run's plan (giving it makes a
// quick start run no longer the quick start). The command's options, its help text (defaults
// included), the config's resolution and the resume rules all come from this table.
import { PRECISIONS } from '../backend/backend.js';
import { BACKEND_NAMES, defaultBackendName } from '../backend/registry.js';
import { InvalidArgumentError } from 'commander';
import { parseArch, parseChoice, parseNonNegativeNumber, parsePositiveInt, parseWorkers } from '../cli/args.js';
import type { DerivedKey, TrainConfig } from './config.js';
import type { DataSpec, Recipe } from './data.js';
import { RECIPE_NAMES, RECIPE_TITLES, RECIPES, type RecipeDefaults, type RecipeKey } from './recipes.js';

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

/** What a default may depend on. */
export interface Resolving {
  recipe: Recipe;
  defaults: RecipeDefaults;
  data: DataSpec;
  /** The class names found in the data. */
  classes: readonly string[];
  /** What the machine offers: bf16 in the native backend. */
  hardware: { bf16: boolean };
  /** The options given on the command line. */
  chosen: OptionChoices;
  /** The fields resolved so far (those above in the table). */
  config: Partial<TrainConfig>;
}

/** The config fields the table resolves. */
export type OptionKey = Exclude<keyof TrainConfig, DerivedKey>;

export interface TrainOption<K extends OptionKey> {
  key: K;
  /** The flag ('--lr <x>', or '--strict' for a switch); none: the option comes from the recipe only. */
  flag?: string;
  help?: string;
  parse?: (value: string) => TrainConfig[K];
  /** The value when the option is not given. */
  default: (r: Resolving) => TrainConfig[K];
  /** Help text for the default where it depends on more than the recipe (else derived from `default`). */
  defaultHelp?: string;
  /** --resume may change it (it does not change the run's arithmetic). */
  resumable: boolean;
  /** null is a value of its own: not set (no limit, no file, the machine's choice). */
  nullable?: boolean;
  /** It changes what the run trains or for how long. */
  plan: boolean;
}

type AnyOption = { [K in OptionKey]: TrainOption<K> }[OptionKey];

const option = <K extends OptionKey>(o: TrainOption<K>): AnyOption => o as unknown as AnyOption;

const fromRecipe =
  <K extends RecipeKey & OptionKey>(key: K) =>
  (r: Resolving): TrainConfig[K] =>
    (r.defaults as Pick<TrainConfig, K>)[key];

/** The table, in resolution order (a default may use the fields above it). */
export const TRAIN_OPTIONS: readonly AnyOption[] = [
  option({
    key: 'arch',
    flag: '--arch <name>',
    help: 'alexnet | alexnet-v1 | alexnet-2012',
    parse: parseArch,
    default: fromRecipe('arch'),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'numClasses',
    flag: '--num-classes <n>',
    help: 'output classes',
    parse: parsePositiveInt,
    default: (r) => r.classes.length,
    defaultHelp: 'the classes in the data',
    resumable: false,
    plan: true,
  }),
  option({
    key: 'inputSize',
    flag: '--input-size <n>',
    help: "input height = width (the defaults are for each recipe's architecture)",
    parse: parsePositiveInt,
    default: (r) => r.defaults.inputSize(r.config.arch ?? r.defaults.arch),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'epochs',
    flag: '--epochs <n>',
    help: 'epochs to train',
    parse: parsePositiveInt,
    default: fromRecipe('epochs'),
    resumable: true,
    plan: true,
  }),
  option({
    key: 'batchSize',
    flag: '--batch-size <n>',
    help: 'images per SGD step',
    parse: parsePositiveInt,
    default: fromRecipe('batchSize'),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'lr',
    flag: '--lr <x>',
    help: 'learning rate',
    parse: parsePositiveNumber,
    default: fromRecipe('lr'),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'momentum',
    flag: '--momentum <x>',
    help: 'SGD momentum',
    parse: parseNonNegativeNumber,
    default: fromRecipe('momentum'),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'weightDecay',
    flag: '--weight-decay <x>',
    help: 'L2 weight decay',
    parse: parseNonNegativeNumber,
    default: fromRecipe('weightDecay'),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'schedule',
    flag: '--schedule <kind>',
    help: 'step | plateau | linear (to 0 over the run, per step) | none',
    parse: parseChoice(['step', 'plateau', 'linear', 'none'] as const),
    default: fromRecipe('schedule'),
    resumable: false,
    plan: true,
  }),
  option({
    key: 'stepSize',
    flag: '--step-size <n>',
    help: 'epochs between learning-rate decays (step schedule)',
    parse: parsePositiveInt,
    default: fromRecipe('stepSize'),
    resumable: false,
    plan: true,
  }),
  option({ key: 'gamma', default: fromRecipe('gamma'), resumable: false, plan: true }),
  option({
    key: 'patience',
    flag: '--patience <n>',
    help: 'epochs without improvement before ÷10 (plateau schedule)',
    parse: parsePositiveInt,
    default: fromRecipe('patience'),
    resumable: false,
    plan: true,
  }),
  option({ key: 'init', default: fromRecipe('init'), resumable: false, plan: true }),
  option({ key: 'dropout', default: () => 0.5, resumable: false, plan: true }),
  option({
    key: 'precision',
    flag: '--precision <p>',
    help: 'f32 | bf16 (native backend) | f16 (webgpu backend: f16 weights)',
    parse: parseChoice(PRECISIONS),
    default: (r) => (r.defaults.preferBf16 && r.hardware.bf16 ? 'bf16' : 'f32'),
    defaultHelp: 'f32; bf16 for the Fashion-MNIST quick start where the CPU computes it',
    resumable: false,
    plan: true,
  }),
  option({
    key: 'backend',
    flag: '--backend <name>',
    help: BACKEND_NAMES.join(' | '),
    parse: parseChoice(BACKEND_NAMES),
    default: () => defaultBackendName(),
    defaultHelp: 'native, or ALEXNET_BACKEND',
    resumable: true,
    plan: false,
  }),
  option({
    key: 'threads',
    flag: '--threads <n>',
    help: 'compute threads (native backend)',
    parse: parsePositiveInt,
    default: () => null,
    defaultHelp: "the machine's cores",
    nullable: true,
    resumable: true,
    plan: false,
  }),
  option({
    key: 'workers',
    flag: '--workers <n>',
    help: 'data-loading worker threads',
    parse: parseWorkers,
    default: (r) => (r.data.kind === 'fashion-mnist' ? 0 : 2),
    defaultHelp: '0 for Fashion-MNIST, 2 for other data',
    resumable: true,
    plan: false,
  }),
  option({
    key: 'seed',
    flag: '--seed <n>',
    help: 'seed for initialisation, order, augmentation and dropout',
    parse: parseSeed,
    default: () => 0,
    resumable: false,
    plan: false,
  }),
  option({
    key: 'maxSteps',
    flag: '--max-steps <n>',
    help: 'stop after this many SGD steps in total',
    parse: parsePositiveInt,
    default: () => null,
    nullable: true,
    resumable: true,
    plan: true,
  }),
  option({
    key: 'checkpointEvery',
    flag: '--checkpoint-every <n>',
    help: 'also write a checkpoint every n steps within an epoch',
    parse: parsePositiveInt,
    default: () => null,
    nullable: true,
    resumable: true,
    plan: false,
  }),
  option({
    key: 'timeLimitS',
    flag: '--time-limit <seconds>',
    help: 'stop training early enough to finish within this many seconds',
    parse: parsePositiveNumber,
    // The quick start's budget applies to its own plan; a chosen --epochs runs them all.
    default: (r) => (r.chosen.epochs === undefined ? r.defaults.timeLimitS : null),
    nullable: true,
    resumable: true,
    plan: true,
  }),
  option({
    key: 'gradDtype',
    flag: '--grad-dtype <dtype>',
    help: 'f32 | bf16: the type gradients travel in between MPI ranks (f32 master weights stay)',
    parse: parseChoice(['f32', 'bf16'] as const),
    default: () => 'f32',
    resumable: true,
    plan: false,
  }),
  option({
    key: 'parallel',
    flag: '--parallel <mode>',
    help: "ddp | hybrid: under MPI, data parallelism, or Krizhevsky's hybrid (the FC layers' units split over the ranks)",
    parse: parseChoice(['ddp', 'hybrid'] as const),
    default: () => 'ddp',
    resumable: true,
    plan: false,
  }),
  option({
    key: 'strict',
    flag: '--strict',
    help: 'stop at the first broken image instead of skipping it',
    default: () => false,
    resumable: false,
    plan: false,
  }),
  option({
    key: 'pretrained',
    flag: '--pretrained <file>',
    help: "start from these weights (.pth, .safetensors, .ckpt, or torchvision: torchvision's, from PyTorch's cache or downloaded); the last layer is replaced when the class count differs",
    default: () => null,
    nullable: true,
    resumable: false,
    plan: true,
  }),
  option({
    key: 'freeze',
    flag: '--freeze <part>',
    help: 'features: train only the classifier',
    parse: parseChoice(['features'] as const),
    default: () => 'none',
    resumable: false,
    plan: true,
  }),
  option({
    key: 'tenCrop',
    flag: '--ten-crop',
    help: 'evaluate on ten crops, averaging softmax',
    default: fromRecipe('tenCrop'),
    resumable: false,
    plan: true,
  }),
  option({ key: 'showPredictions', default: fromRecipe('showPredictions'), resumable: false, plan: false }),
];

/** Options as given on the command line, by config field. */
export type OptionChoices = { [K in OptionKey]?: TrainConfig[K] };

function shown(v: unknown): string {
  if (v === null) return 'none';
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v);
}

/** The default of an option as the help shows it: its value for each recipe (for the recipe's own architecture and data). */
export function defaultText(o: AnyOption): string {
  if (o.defaultHelp) return o.defaultHelp;
  const byValue = new Map<string, string[]>();
  for (const recipe of RECIPE_NAMES) {
    const defaults = RECIPES[recipe];
    const data: DataSpec =
      recipe === 'fashion-mnist' || recipe === 'd2l' ? { kind: 'fashion-mnist', dir: '' } : { kind: 'files', train: '', val: '' };
    const r: Resolving = { recipe, defaults, data, classes: [], hardware: { bf16: false }, chosen: {}, config: { arch: defaults.arch } };
    const v = shown(o.default(r));
    byValue.set(v, [...(byValue.get(v) ?? []), RECIPE_TITLES[recipe]]);
  }
  if (byValue.size === 1) return [...byValue.keys()].join('');
  return [...byValue].map(([v, recipes]) => `${v} (${recipes.join(', ')})`).join('; ');
}

/** The help line of an option: its text and its default. */
export function helpText(o: AnyOption): string {
  const d = defaultText(o);
  return d === 'none' || d === 'off' ? (o.help ?? '') : `${o.help ?? ''} (default: ${d})`;
}

/** Resolves every option of the table: the chosen value, else its default (in table order). */
export function resolveOptions(r: Omit<Resolving, 'config'>): Pick<TrainConfig, OptionKey> {
  const config: Partial<TrainConfig> = {};
  // Each entry's default has its own field's type; the loop writes them by key.
  const into = config as Record<string, unknown>;
  for (const o of TRAIN_OPTIONS) {
    const chosen = r.chosen[o.key];
    into[o.key] = chosen !== undefined ? chosen : o.default({ ...r, config });
  }
  return config as Pick<TrainConfig, OptionKey>;
}

/** Whether the choices change the run's plan (any option marked `plan` was given). */
export function changesPlan(chosen: OptionChoices): boolean {
  return TRAIN_OPTIONS.some((o) => o.plan && chosen[o.key] !== undefined);
}
