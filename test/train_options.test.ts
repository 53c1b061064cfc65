// The training options table: `train --help` shows the recipes' own defaults, the resolved config
// takes bf16 only for the Fashion-MNIST quick start, and the quick start's target line is printed
// only when its plan is untouched (a real CLI run each way).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { completeConfig, resolveConfig, type TrainChoices, type TrainConfig } from '../src/train/config.js';
import type { DataSpec } from '../src/train/data.js';
import { TRAIN_OPTIONS } from '../src/train/options.js';
import { RECIPES } from '../src/train/recipes.js';
import { nativeBf16, skip as nativeSkip } from './native_helpers.js';
import { runCli, tempDir, tinyFashionMnist } from './train_helpers.js';

const fashion: DataSpec = { kind: 'fashion-mnist', dir: '/nonexistent' };
const folders: DataSpec = { kind: 'files', train: '/nonexistent/train', val: '/nonexistent/val' };
const ten = Array.from({ length: 10 }, (_, i) => `c${i}`);

test('train --help shows the defaults of the recipes themselves', () => {
  const r = runCli(['train', '--help']);
  assert.equal(r.status, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, ' ');
  const quick = RECIPES['fashion-mnist'];
  assert.ok(help.includes(`${quick.inputSize(quick.arch)} (the Fashion-MNIST quick start)`), help);
  assert.ok(help.includes(`${RECIPES.paper.inputSize(RECIPES.paper.arch)} (--recipe paper)`), help);
  assert.ok(!/63 for the Fashion-MNIST/.test(help), 'the help names an input size the quick start does not use');
  for (const [flag, key] of [
    ['--epochs', 'epochs'],
    ['--batch-size', 'batchSize'],
    ['--lr', 'lr'],
  ] as const) {
    const line = new RegExp(`${flag} <[a-z]+> .*?\\(default: ([^)]*\\))+`).exec(help)?.[0] ?? '';
    assert.ok(line.includes(`${quick[key]} (the Fashion-MNIST quick start`), `${flag}: ${line}`);
    assert.ok(line.includes(`${RECIPES.torchvision[key]} (`), `${flag}: ${line}`);
  }
  for (const o of TRAIN_OPTIONS) if (o.flag) assert.ok(help.includes(o.flag), `${o.flag} missing from the help`);
});

test('--precision defaults to f32 except for the Fashion-MNIST quick start on a bf16 CPU', () => {
  const precision = (choices: TrainChoices, data: DataSpec, bf16: boolean): string =>
    resolveConfig(choices, data, data.kind === 'files' ? ['a', 'b'] : ten, { bf16 }).precision;
  assert.equal(precision({}, fashion, true), 'bf16');
  assert.equal(precision({}, fashion, false), 'f32');
  assert.equal(precision({ precision: 'f32' }, fashion, true), 'f32');
  assert.equal(precision({ preset: 'd2l' }, fashion, true), 'f32');
  assert.equal(precision({}, folders, true), 'f32');
  assert.equal(precision({ recipe: 'paper' }, folders, true), 'f32');
  assert.equal(precision({ recipe: 'torchvision' }, fashion, true), 'f32');
});

test('the resolved config has every field, and marks the untouched quick start', () => {
  const quick = resolveConfig({}, fashion, ten);
  for (const [k, v] of Object.entries(quick)) assert.notEqual(v, undefined, `${k} is undefined`);
  assert.equal(quick.quickStart, true);
  assert.equal(resolveConfig({ workers: 2, seed: 3 }, fashion, ten).quickStart, true);
  for (const changed of [{ maxSteps: 5 }, { epochs: 2 }, { timeLimitS: 60 }, { lr: 0.1 }, { precision: 'f32' as const }])
    assert.equal(resolveConfig(changed, fashion, ten).quickStart, false, JSON.stringify(changed));
  assert.equal(resolveConfig({}, folders, ['a']).quickStart, false);
  assert.equal(resolveConfig({ preset: 'd2l' }, fashion, ten).quickStart, false);
});

test('a config saved before an option existed is completed with its defaults; saved values stay', () => {
  const full: TrainConfig = { ...resolveConfig({ lr: 0.5 }, fashion, ten), trainTransforms: [], evalTransforms: [], meanImageFile: null };
  const saved: Partial<TrainConfig> = { ...full };
  delete saved.patience;
  delete saved.dropout;
  delete saved.quickStart;
  const completed = completeConfig(saved as TrainConfig);
  assert.deepEqual(completed, { ...full, quickStart: false });
  assert.equal(completed.patience, RECIPES['fashion-mnist'].patience);
  assert.equal(completed.lr, 0.5);
  assert.equal(completed.maxSteps, null);
});

test("the quick start's target line is printed for the untouched quick start only", { timeout: 300_000 }, () => {
  // On tiny data the quick start's plan (4 epochs of one batch each) takes seconds.
  const data = tinyFashionMnist(8, 2);
  const backend = nativeSkip ? 'reference' : 'native';
  const quick = join(tempDir('quick'), 'run');
  const r = runCli(['train', '--dataset', `fashion-mnist=${data}`, '--backend', backend, '--out', quick]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /quick start target \(≥ 90% test accuracy within 10 minutes\): not met/);
  if (nativeBf16) assert.match(r.stdout, /backend native, bf16 \(the quick start's default; --precision f32 to change\)/);
  const limited = join(tempDir('limited'), 'run');
  const m = runCli(['train', '--dataset', `fashion-mnist=${data}`, '--backend', backend, '--max-steps', '1', '--out', limited]);
  assert.equal(m.status, 0, m.stdout + m.stderr);
  assert.match(m.stdout, /stopping: --max-steps 1 reached/);
  assert.doesNotMatch(m.stdout, /quick start target/);
});
