// Loading weights files that do not fit: another architecture's keys name the right --arch, an
// extra key is the same one-line error on both backends, and sizes read from the file (zero-size
// tensors claiming huge class or channel counts) are checked before anything is allocated; the
// shape tables those checks use agree with the models.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setBackend } from '../src/backend/registry.js';
import { archShapes } from '../src/io/model_from_weights.js';
import { writeNpy } from '../src/io/npy.js';
import { createModel } from '../src/models/index.js';
import { writePth } from '../src/io/pth/index.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { shapeFromWeights } from '../src/train/weights.js';
import { tempDir } from './train_helpers.js';
import { runCliMeasured, smallV1Shapes, tensorsFor, type Tensors } from './ckpt_fixtures.js';
import { skip as nativeSkip } from './native_helpers.js';

const dir = tempDir('wload');
const input = join(dir, 'x.npy');
writeNpy(input, new Float32Array(65 * 65), [1, 1, 65, 65]);
const forward = (weights: string, extra: string[] = [], env: Record<string, string> = {}) =>
  runCliMeasured(['forward', '--weights', weights, '--input', input, '--output', join(dir, 'y.npy'), ...extra], env);

function assertOneLine(r: { status: number | null; stderr: string }, code: number, message: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}

/** torchvision-like keys with tiny shapes: enough to recognise the architecture from. */
const torchvisionKeys = (): Tensors =>
  new Map([
    ['features.0.weight', { shape: [64, 3, 11, 11], data: new Float32Array(64 * 3 * 121) }],
    ['features.0.bias', { shape: [64], data: new Float32Array(64) }],
    ['classifier.1.weight', { shape: [2, 2], data: new Float32Array(4) }],
    ['classifier.6.weight', { shape: [2, 2], data: new Float32Array(4) }],
  ]);

test('torchvision weights with --arch alexnet-v1 say to use --arch alexnet', () => {
  const path = join(dir, 'tv.pth');
  writePth(path, torchvisionKeys());
  const r = forward(path, ['--arch', 'alexnet-v1']);
  assertOneLine(
    r,
    2,
    /tv\.pth: these are torchvision AlexNet weights \('features\.\*', 'classifier\.\*', 64 conv1 filters\), not alexnet-v1: use --arch alexnet$/m,
  );
  // The same check when fine-tuning (--pretrained) reads the file.
  assert.throws(
    () => shapeFromWeights('alexnet-v1', torchvisionKeys(), 'tv.pth'),
    /tv\.pth: these are torchvision AlexNet weights.*use --arch alexnet/,
  );
  const v1 = tensorsFor(smallV1Shapes());
  assert.throws(
    () => shapeFromWeights('alexnet-2012', v1, 'v1.pth'),
    /v1\.pth: these are .*'conv\.\*', 'fc_layer\.\*'.*use --arch alexnet-v1/,
  );
  assert.deepEqual(shapeFromWeights('alexnet-v1', v1, 'v1.pth'), { inChannels: 1, numClasses: 10 });
});

for (const backend of ['reference', 'native']) {
  test(`an extra key is one clean line on the ${backend} backend`, (t) => {
    if (backend === 'native' && nativeSkip) return t.skip(nativeSkip);
    const m = tensorsFor(smallV1Shapes());
    m.set('conv.12.weight', { shape: [2], data: new Float32Array(2) });
    const path = join(dir, `extra-${backend}.pth`);
    writePth(path, m);
    const r = forward(path, [], { ALEXNET_BACKEND: backend });
    assertOneLine(r, 1, /extra-\w+\.pth.*unexpected key 'conv\.12\.weight'/);
    assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /);
  });
}

test('zero-size tensors cannot make the model allocate what the file does not hold', () => {
  // Every key of alexnet-v1 present, but empty: the old loader took 25,000 classes and FC6's
  // default width from these and allocated some 600 MB before noticing the shapes.
  const lying: Tensors = new Map(
    smallV1Shapes(25_000).map(([k, shape]) => [
      k,
      { shape: shape.map((d, i) => (i === shape.length - 1 ? 0 : d)), data: new Float32Array(0) },
    ]),
  );
  const cases: [string, Tensors, RegExp][] = [
    ['all keys empty', lying, /empty\.safetensors: key 'conv\.0\.weight' has shape \[96, 1, 11, 0\], the model expects \[96, 1, 11, 11\]/],
    [
      'channels from an empty conv1',
      new Map([...lying].map(([k, t]) => [k, k === 'conv.0.weight' ? { shape: [96, 100, 0, 11], data: new Float32Array(0) } : t])),
      /channels\.safetensors: 'conv\.0\.weight' claims 100 input channels \(at most 64\)/,
    ],
  ];
  for (const [what, tensors, message] of cases) {
    const name = what.startsWith('all') ? 'empty.safetensors' : 'channels.safetensors';
    const path = join(dir, name);
    writeSafetensors(path, tensors);
    const r = forward(path);
    assertOneLine(r, 1, message);
    assert.ok(r.peakMiB < 250, `${what}: peak RSS ${r.peakMiB.toFixed(0)} MiB`);
  }
});

test("the architectures' key/shape tables match the models' state dicts", () => {
  setBackend('reference');
  for (const [arch, inputSize] of [
    ['alexnet', 63],
    ['alexnet-v1', 65],
    ['alexnet-2012', 67],
  ] as const) {
    const model = createModel(arch, { inChannels: 2, numClasses: 7, inputSize });
    const fc6In = model
      .stateDict()
      .get(arch === 'alexnet-v1' ? 'fc_layer.0.weight' : arch === 'alexnet' ? 'classifier.1.weight' : 'classifier.0.weight')!.shape[1]!;
    assert.deepEqual(
      archShapes(arch, 2, 7, fc6In),
      [...model.stateDict()].map(([k, t]) => [k, [...t.shape]]),
      arch,
    );
    for (const p of model.parameters()) p.dispose();
  }
});
