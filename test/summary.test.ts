// summary() against torchsummary 1.5.1's text (scripts/make_summary_fixtures.py), byte for byte
// apart from trailing whitespace, plus the parameter counts (as PyTorch counts them for the three
// definitions) and alexnet's multiply-accumulate count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { pyFixed } from '../src/summary/format.js';
import { summary, summaryRows } from '../src/summary/summary.js';

setBackend(referenceBackend());
const fixture = (name: string) =>
  readFileSync(new URL(`./fixtures/summary/${name}`, import.meta.url.replace('/dist/test/', '/test/')), 'utf8');
const trimLines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');

const models = new Map<ArchName, ReturnType<typeof createModel>>();
const model = (arch: ArchName) => {
  if (!models.has(arch)) models.set(arch, createModel(arch));
  return models.get(arch)!;
};

describe('summary equals torchsummary 1.5.1', () => {
  const cases: [ArchName, number[], number | undefined, string][] = [
    ['alexnet', [3, 224, 224], undefined, 'alexnet_3x224x224.txt'],
    ['alexnet', [3, 227, 227], undefined, 'alexnet_3x227x227.txt'],
    ['alexnet', [3, 63, 63], undefined, 'alexnet_3x63x63.txt'],
    ['alexnet-v1', [3, 227, 227], undefined, 'alexnet-v1_3x227x227.txt'],
    ['alexnet-2012', [3, 227, 227], undefined, 'alexnet-2012_3x227x227.txt'],
    ['alexnet', [3, 224, 224], 16, 'alexnet_3x224x224_b16.txt'],
  ];
  for (const [arch, input, batch, file] of cases) {
    test(`${arch} ${input.join('x')}${batch ? ` batch ${batch}` : ''}`, () => {
      assert.equal(trimLines(summary(model(arch), input, { batchSize: batch })), trimLines(fixture(file)));
    });
  }
});

test("parameter counts equal PyTorch's for the three AlexNets", () => {
  assert.equal(model('alexnet').parameterCount(), 61_100_840);
  assert.equal(model('alexnet-v1').parameterCount(), 62_378_344);
  assert.equal(model('alexnet-2012').parameterCount(), 60_965_224);
});

test('--flops: 0.714 G multiply-accumulates for alexnet at 224', () => {
  const total = summaryRows(model('alexnet'), [3, 224, 224]).reduce((s, r) => s + r.macs, 0);
  assert.equal(total, 714_188_480);
  assert.match(summary(model('alexnet'), [3, 224, 224], { flops: true }), /Total MACs: 714,188,480 \(0\.714 G\)/);
});

test('an input the model cannot take names the size it expects', () => {
  assert.throws(() => summary(model('alexnet-v1'), [3, 224, 224]), /alexnet-v1 expects input \[N, 3, 227, 227\]/);
  assert.throws(() => summary(model('alexnet'), [3, 32, 32]), /alexnet expects input \[N, 3, 224, 224\]/);
  assert.throws(() => summary(model('alexnet'), [1, 224, 224]), /expects input \[N, 3, 224, 224\]/);
});

test("Python's %0.2f rounding (half to even on the exact binary value)", () => {
  assert.equal(pyFixed(0.125, 2), '0.12');
  assert.equal(pyFixed(0.375, 2), '0.38');
  assert.equal(pyFixed(2.675, 2), '2.67');
  assert.equal(pyFixed(233.0810546875, 2), '233.08');
  assert.equal(pyFixed(0.5, 0), '0');
  assert.equal(pyFixed(1.5, 0), '2');
});
