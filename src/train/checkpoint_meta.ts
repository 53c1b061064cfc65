// A training checkpoint's meta, checked field by field before a run resumes from it. The file's
// SHA-256 only proves that it is whole, not that its writer was this program: a crafted meta must
// be a DataError naming the file and the field, never a TypeError deep in the trainer. The run's
// config passes the same rules as the command line's options.
import { InvalidArgumentError } from 'commander';
import { DataError } from '../errors.js';
import { MAX_CLASSES, MAX_IN_CHANNELS } from '../io/model_from_weights.js';
import type { CheckpointMeta } from './trainer.js';
import type { TrainConfig } from './config.js';
import type { DataSpec } from './data.js';
import { Fields, printable } from './json_fields.js';
import { parseModelInfo, parseTransforms } from './model_json.js';
import { resolveOptions, TRAIN_OPTIONS } from './options.js';
import { RECIPE_NAMES, RECIPES } from './recipes.js';

const KIND = 'alexnet-train-checkpoint';

/** `meta` of the checkpoint `where` (in the run directory `dir`) as a CheckpointMeta, or a DataError. */
export function checkCheckpointMeta(meta: Record<string, unknown>, where: string, dir: string): CheckpointMeta {
  const f = new Fields(where, 'meta.');
  if (meta.kind !== KIND) throw new DataError(`${where} is not a training checkpoint (meta.kind is not '${KIND}')`);
  const count = (field: string): number => f.int(field, meta[field], 0, Number.MAX_SAFE_INTEGER);
  const seconds = (field: string, v: unknown): number => f.num(field, v, 0, Number.MAX_VALUE);
  const accum = f.obj('epochAccum', meta.epochAccum);
  const optimizer = f.obj('optimizer', meta.optimizer);
  const buffers = optimizer.buffers;
  if (!Array.isArray(buffers) || !buffers.every((b) => typeof b === 'boolean')) f.fail('optimizer.buffers', 'must be a list of true/false');
  const rng = f.obj('rng.default', f.obj('rng', meta.rng).default);
  const s = f.nums('rng.default.s', rng.s, [4, 4], 0, 0xffffffff);
  if (!s.every(Number.isInteger)) f.fail('rng.default.s', 'must hold four 32-bit integers');
  const best = meta.best === null ? null : f.obj('best', meta.best);
  return {
    kind: KIND,
    config: checkConfig(f.obj('config', meta.config), where, dir),
    model: { ...parseModelInfo(meta.model, `${where} (meta.model)`, dir) } as CheckpointMeta['model'],
    epoch: count('epoch'),
    batch: count('batch'),
    step: count('step'),
    epochAccum: {
      lossSum: f.num('epochAccum.lossSum', accum.lossSum, -Number.MAX_VALUE, Number.MAX_VALUE),
      correct: f.int('epochAccum.correct', accum.correct, 0, Number.MAX_SAFE_INTEGER),
      seen: f.int('epochAccum.seen', accum.seen, 0, Number.MAX_SAFE_INTEGER),
      trainS: seconds('epochAccum.trainS', accum.trainS),
      batches: f.int('epochAccum.batches', accum.batches, 0, Number.MAX_SAFE_INTEGER),
    },
    optimizer: { lr: f.num('optimizer.lr', optimizer.lr, 0, Number.MAX_VALUE), buffers: buffers as boolean[] },
    scheduler: checkScheduler(f, f.obj('scheduler', meta.scheduler)),
    rng: {
      default: {
        s: s as [number, number, number, number],
        spare: rng.spare === null ? null : f.num('rng.default.spare', rng.spare, -Number.MAX_VALUE, Number.MAX_VALUE),
      },
    },
    best:
      best === null
        ? null
        : { top1: f.num('best.top1', best.top1, 0, 1), epoch: f.int('best.epoch', best.epoch, 0, Number.MAX_SAFE_INTEGER) },
    elapsedS: seconds('elapsedS', meta.elapsedS),
    trainImages: count('trainImages'),
    trainS: seconds('trainS', meta.trainS),
    finished: f.bool('finished', meta.finished),
    stoppedEarly: meta.stoppedEarly === null ? null : printable(f.str('stoppedEarly', meta.stoppedEarly)),
  };
}

function checkScheduler(f: Fields, s: Record<string, unknown>): CheckpointMeta['scheduler'] {
  if (s.type === 'none') return { type: 'none' };
  if (s.type === 'step') return { type: 'step', lastEpoch: f.int('scheduler.lastEpoch', s.lastEpoch, -1, Number.MAX_SAFE_INTEGER) };
  if (s.type !== 'plateau') return f.fail('scheduler.type', "must be 'none', 'step' or 'plateau'");
  const st = f.obj('scheduler.state', s.state);
  const int = (k: string): number => f.int(`scheduler.state.${k}`, st[k], -1, Number.MAX_SAFE_INTEGER);
  const bestValue = st.best === null ? Infinity : f.num('scheduler.state.best', st.best, -Number.MAX_VALUE, Number.MAX_VALUE);
  return {
    type: 'plateau',
    state: { best: bestValue, numBadEpochs: int('numBadEpochs'), cooldownCounter: int('cooldownCounter'), lastEpoch: int('lastEpoch') },
  };
}

/** The run's config: its recipe, data and classes, then every option by the command line's own parser. */
function checkConfig(c: Record<string, unknown>, where: string, dir: string): TrainConfig {
  const f = new Fields(where, 'meta.config.');
  const recipe = c.recipe;
  if (typeof recipe !== 'string' || !(RECIPE_NAMES as readonly string[]).includes(recipe))
    f.fail('recipe', `must be one of ${RECIPE_NAMES.join(', ')}`);
  const data = f.obj('data', c.data);
  let spec: DataSpec;
  if (data.kind === 'fashion-mnist') spec = { kind: 'fashion-mnist', dir: f.str('data.dir', data.dir) };
  else if (data.kind === 'files') spec = { kind: 'files', train: f.str('data.train', data.train), val: f.str('data.val', data.val) };
  else return f.fail('data.kind', "must be 'fashion-mnist' or 'files'");
  const classes = c.classes;
  if (!Array.isArray(classes) || classes.length > MAX_CLASSES || !classes.every((k): k is string => typeof k === 'string'))
    return f.fail('classes', `must be a list of at most ${MAX_CLASSES} strings`);
  const fresh = resolveOptions({
    recipe: recipe as TrainConfig['recipe'],
    defaults: RECIPES[recipe as TrainConfig['recipe']],
    data: spec,
    classes,
    hardware: { bf16: false },
    chosen: {},
  });
  for (const o of TRAIN_OPTIONS) {
    const value = c[o.key];
    const expected: unknown = fresh[o.key];
    // Absent, or the recipe's own default (which the flag's parser may not spell: freeze 'none').
    if (value === undefined || value === expected || (value === null && o.nullable)) continue;
    if (value === null || (expected !== null && typeof value !== typeof expected))
      f.fail(o.key, `must be a ${typeof expected}, got ${JSON.stringify(value)}`);
    if (o.parse && typeof value !== 'boolean') {
      try {
        o.parse(String(value));
      } catch (err) {
        if (err instanceof InvalidArgumentError) f.fail(o.key, err.message.replace(/^error: /, ''));
        throw err;
      }
    }
  }
  const meanImageFile = c.meanImageFile === null || c.meanImageFile === undefined ? null : f.fileIn('meanImageFile', c.meanImageFile, dir);
  return {
    ...(c as unknown as TrainConfig),
    recipe: recipe as TrainConfig['recipe'],
    data: spec,
    classes: classes.map(printable),
    inChannels: f.int('inChannels', c.inChannels, 1, MAX_IN_CHANNELS),
    trainTransforms: parseTransforms(c.trainTransforms, where, 'meta.config.trainTransforms', dir),
    evalTransforms: parseTransforms(c.evalTransforms, where, 'meta.config.evalTransforms', dir),
    meanImageFile,
    quickStart: c.quickStart === undefined ? false : f.bool('quickStart', c.quickStart),
  };
}
