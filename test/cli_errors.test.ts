// Every command, given bad files (missing, a directory, empty, garbage bytes, truncated) or bad
// arguments (unknown option, bad number, unknown architecture, missing required option), answers
// with exactly one line `alexnet: …` on stderr, no stack trace, and exit 2 (usage) or 1 (data).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeNpy } from '../src/io/npy.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { setBackend } from '../src/backend/registry.js';
import { createModel } from '../src/models/index.js';
import { root, tempDir } from './train_helpers.js';

const USAGE = 2;
const DATA = 1;
const broken = join(root, 'test/fixtures/data/broken');
const photo = join(root, 'test/fixtures/data/photos/street.jpg');

/** The bad files of every kind, and small good ones to pair them with. */
function makeFiles() {
  const dir = tempDir('cli-errors');
  const at = (name: string) => join(dir, name);
  mkdirSync(at('a-directory.pth'));
  mkdirSync(at('empty-folder'));
  writeFileSync(at('empty.pth'), '');
  // Deterministic bytes that are no known format.
  writeFileSync(
    at('garbage.pth'),
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 255),
  );
  setBackend('reference');
  const model = createModel('alexnet-v1', { inChannels: 1, numClasses: 10, inputSize: 65 });
  const tensors = new Map([...model.stateDict()].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.toArray()) }]));
  writeSafetensors(at('good.safetensors'), tensors);
  writeFileSync(at('truncated.safetensors'), readFileSync(at('good.safetensors')).subarray(0, 100_000));
  writeNpy(at('good.npy'), new Float32Array(65 * 65), [1, 1, 65, 65]);
  writeFileSync(at('truncated.npy'), readFileSync(at('good.npy')).subarray(0, 200));
  writeFileSync(at('garbage.npy'), readFileSync(at('garbage.pth')));
  // An image folder (one class) whose only image is broken, and one with a good image.
  mkdirSync(at('broken-images/cls'), { recursive: true });
  copyFileSync(join(broken, 'corrupt.jpg'), at('broken-images/cls/corrupt.jpg'));
  mkdirSync(at('images/cls'), { recursive: true });
  copyFileSync(photo, at('images/cls/street.jpg'));
  mkdirSync(at('run-without-checkpoints'));
  return { dir, at };
}

type Case = [what: string, args: string[], code: number, names?: string];

function cases(f: ReturnType<typeof makeFiles>): Case[] {
  const { at } = f;
  const good = at('good.safetensors');
  const missing = at('missing.pth');
  const badWeights: [string, string][] = [
    ['missing', missing],
    ['a directory', at('a-directory.pth')],
    ['empty', at('empty.pth')],
    ['garbage', at('garbage.pth')],
    ['truncated', at('truncated.safetensors')],
  ];
  const out = at('out.npy');
  return [
    // alexnet itself
    ['unknown command', ['frobnicate'], USAGE, 'frobnicate'],
    ['misspelt command', ['trian'], USAGE, 'trian'],
    ['unknown top-level option', ['--frobnicate'], USAGE, '--frobnicate'],

    // summary
    ['summary: unknown option', ['summary', '--arch', 'alexnet', '--bogus'], USAGE, '--bogus'],
    ['summary: bad number', ['summary', '--arch', 'alexnet', '--batch', 'abc'], USAGE, '--batch'],
    ['summary: unknown arch', ['summary', '--arch', 'vgg16'], USAGE, 'vgg16'],
    ['summary: missing --arch', ['summary'], USAGE, '--arch'],
    ['summary: input the model cannot take', ['summary', '--arch', 'alexnet-v1', '--input', '3,224,224'], USAGE],
    ['summary: --fit-input with a non-square input', ['summary', '--arch', 'alexnet-v1', '--input', '3,224,200', '--fit-input'], USAGE],

    // prepare
    ['prepare: missing folder', ['prepare', at('missing-folder'), '--out', at('p.bin')], DATA, 'missing-folder'],
    ['prepare: a file for the folder', ['prepare', at('garbage.pth'), '--out', at('p.bin')], DATA, 'garbage.pth'],
    ['prepare: empty folder', ['prepare', at('empty-folder'), '--out', at('p.bin')], DATA, 'empty-folder'],
    [
      'prepare: --strict and a broken image',
      ['prepare', at('broken-images'), '--out', at('p.bin'), '--strict', '--quiet'],
      DATA,
      'corrupt.jpg',
    ],
    ['prepare: --out is a directory', ['prepare', at('images'), '--out', at('a-directory.pth'), '--quiet'], DATA, 'a-directory.pth'],
    ['prepare: --out in a missing folder', ['prepare', at('images'), '--out', at('nowhere/p.bin'), '--quiet'], DATA, 'nowhere'],
    ['prepare: unknown option', ['prepare', at('images'), '--out', at('p.bin'), '--bogus'], USAGE, '--bogus'],
    ['prepare: bad number', ['prepare', at('images'), '--out', at('p.bin'), '--size', 'abc'], USAGE, '--size'],
    ['prepare: missing --out', ['prepare', at('images')], USAGE, '--out'],
    ['prepare: missing folder argument', ['prepare', '--out', at('p.bin')], USAGE, 'data-dir'],

    // forward
    ...badWeights.map(([what, w]): Case => [
      `forward: ${what} weights`,
      ['forward', '--weights', w, '--input', at('good.npy'), '--output', out],
      DATA,
      w,
    ]),
    ['forward: missing input', ['forward', '--weights', good, '--input', at('missing.npy'), '--output', out], DATA, 'missing.npy'],
    ['forward: garbage input', ['forward', '--weights', good, '--input', at('garbage.npy'), '--output', out], DATA, 'garbage.npy'],
    ['forward: truncated input', ['forward', '--weights', good, '--input', at('truncated.npy'), '--output', out], DATA, 'truncated.npy'],
    ['forward: input is a directory', ['forward', '--weights', good, '--input', at('empty-folder'), '--output', out], DATA, 'empty-folder'],
    [
      'forward: output in a missing folder',
      ['forward', '--weights', good, '--input', at('good.npy'), '--output', at('nowhere/y.npy')],
      DATA,
      'nowhere',
    ],
    [
      'forward: unknown arch',
      ['forward', '--arch', 'vgg16', '--weights', good, '--input', at('good.npy'), '--output', out],
      USAGE,
      'vgg16',
    ],
    [
      'forward: bad number',
      ['forward', '--weights', good, '--input', at('good.npy'), '--output', out, '--batch-size', '0'],
      USAGE,
      '--batch-size',
    ],
    ['forward: missing --input', ['forward', '--weights', good, '--output', out], USAGE, '--input'],
    ['forward: unknown option', ['forward', '--weights', good, '--input', at('good.npy'), '--output', out, '--bogus'], USAGE, '--bogus'],

    // convert
    ...badWeights.map(([what, w]): Case => [`convert: ${what} input`, ['convert', w, at('o.safetensors')], DATA, w]),
    ['convert: output in a missing folder', ['convert', good, at('nowhere/o.pth')], DATA, 'nowhere'],
    ['convert: output is a directory', ['convert', good, join(at('a-directory.pth'))], DATA, 'a-directory.pth'],
    ['convert: unknown output format', ['convert', good, at('o.txt')], USAGE, 'o.txt'],
    ['convert: unknown arch', ['convert', good, at('o.onnx'), '--arch', 'vgg16'], USAGE, 'vgg16'],
    ['convert: missing output argument', ['convert', good], USAGE, 'out'],

    // train
    ['train: missing data folder', ['train', at('missing-folder')], DATA, 'missing-folder'],
    ['train: empty data folder', ['train', at('empty-folder')], DATA, 'empty-folder'],
    ['train: garbage prepared file', ['train', '--train', at('garbage.pth'), '--val', at('garbage.pth')], DATA, 'garbage.pth'],
    ['train: missing Fashion-MNIST folder', ['train', '--dataset', `fashion-mnist=${at('missing-folder')}`], DATA, 'missing-folder'],
    ['train: empty Fashion-MNIST folder', ['train', '--dataset', `fashion-mnist=${at('empty-folder')}`], DATA, 'empty-folder'],
    ['train: --resume a missing run', ['train', '--resume', at('missing-run')], DATA, 'missing-run'],
    ['train: --resume a run without checkpoints', ['train', '--resume', at('run-without-checkpoints')], DATA, 'run-without-checkpoints'],
    ['train: --resume an empty file', ['train', '--resume', at('empty.pth')], DATA, 'empty.pth'],
    ['train: --resume garbage', ['train', '--resume', at('garbage.pth')], DATA, 'garbage.pth'],
    ['train: bad number', ['train', '--epochs', '0'], USAGE, '--epochs'],
    ['train: bad learning rate', ['train', '--lr', 'abc'], USAGE, '--lr'],
    ['train: unknown arch', ['train', '--arch', 'vgg16'], USAGE, 'vgg16'],
    ['train: unknown dataset', ['train', '--dataset', 'imagenet'], USAGE, 'imagenet'],
    ['train: unknown option', ['train', '--bogus'], USAGE, '--bogus'],

    // eval
    ...badWeights.map(([what, w]): Case => [
      `eval: ${what} weights`,
      ['eval', '--weights', w, '--data', at('images'), '--out', at('ev')],
      DATA,
      w,
    ]),
    ['eval: missing data folder', ['eval', '--weights', good, '--data', at('missing-folder'), '--out', at('ev')], DATA, 'missing-folder'],
    ['eval: garbage prepared file', ['eval', '--weights', good, '--data', at('garbage.pth'), '--out', at('ev')], DATA, 'garbage.pth'],
    ['eval: empty data folder', ['eval', '--weights', good, '--data', at('empty-folder'), '--out', at('ev')], DATA, 'empty-folder'],
    ['eval: missing --weights', ['eval', '--data', at('images')], USAGE, '--weights'],
    ['eval: no data', ['eval', '--weights', good], USAGE, '--data'],
    ['eval: bad number', ['eval', '--weights', good, '--data', at('images'), '--batch-size', 'x'], USAGE, '--batch-size'],
    ['eval: unknown arch', ['eval', '--weights', good, '--data', at('images'), '--arch', 'vgg16'], USAGE, 'vgg16'],
    ['eval: unknown option', ['eval', '--weights', good, '--data', at('images'), '--bogus'], USAGE, '--bogus'],

    // predict
    ['predict: missing image', ['predict', at('missing.jpg'), '--weights', good], DATA, 'missing.jpg'],
    ['predict: a directory for an image', ['predict', at('empty-folder'), '--weights', good], DATA, 'empty-folder'],
    ...['empty.jpg', 'corrupt.jpg', 'truncated.jpg', 'not_an_image.png'].map((name): Case => [
      `predict: ${name}`,
      ['predict', join(broken, name), '--weights', good],
      DATA,
      name,
    ]),
    ['predict: garbage .npy', ['predict', at('garbage.npy'), '--weights', good], DATA, 'garbage.npy'],
    ...badWeights.map(([what, w]): Case => [`predict: ${what} weights`, ['predict', photo, '--weights', w], DATA, w]),
    ['predict: missing --weights', ['predict', photo], USAGE, '--weights'],
    ['predict: no image', ['predict', '--weights', good], USAGE, 'images'],
    ['predict: bad number', ['predict', photo, '--weights', good, '--topk', '0'], USAGE, '--topk'],
    ['predict: unknown arch', ['predict', photo, '--weights', good, '--arch', 'vgg16'], USAGE, 'vgg16'],
    ['predict: unknown option', ['predict', photo, '--weights', good, '--bogus'], USAGE, '--bogus'],

    // bench (every case fails before any timing starts)
    ['bench: no --arch', ['bench'], USAGE, '--arch'],
    ['bench: unknown arch', ['bench', '--arch', 'vgg16'], USAGE, 'vgg16'],
    ['bench: bad number', ['bench', '--arch', 'alexnet', '--batch', '0'], USAGE, '--batch'],
    ['bench: unknown mode', ['bench', '--arch', 'alexnet', '--mode', 'fly'], USAGE, '--mode'],
    ['bench: unknown precision', ['bench', '--arch', 'alexnet', '--precision', 'fp8'], USAGE, '--precision'],
    ['bench: --preset with --arch', ['bench', '--arch', 'alexnet', '--preset', 'd2l'], USAGE, '--preset'],
    ['bench: unknown option', ['bench', '--arch', 'alexnet', '--bogus'], USAGE, '--bogus'],
  ];
}

const files = makeFiles();
for (const [what, args, code, names] of cases(files)) {
  test(`${what}: one line on stderr, exit ${code}`, () => {
    const r = spawnSync(process.execPath, ['bin/alexnet.js', ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, ALEXNET_BACKEND: 'reference', OMP_NUM_THREADS: '1' },
      timeout: 60_000,
    });
    const lines = r.stderr.trimEnd().split('\n');
    const shown = `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}, stderr:\n${r.stderr}`;
    assert.equal(r.status, code, shown);
    assert.equal(lines.length, 1, `expected one line, got ${shown}`);
    assert.match(lines[0] ?? '', /^alexnet: \S/, shown);
    if (names) assert.ok(lines[0]?.includes(names), `expected the message to name ${names}: ${shown}`);
  });
}
