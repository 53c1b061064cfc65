// `alexnet quantize` end to end on a tiny Fashion-MNIST: an f32 alexnet-v1 (65×65, one channel,
// as the quick start trains it) is quantized on 48 training images; the file is self-describing
// and loads as an int8 model (native and reference engines agree; its logits follow the f32
// model's); eval, predict, serve and bench --precision int8 run on it; every user error is one line
// with the right exit code.
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import sharp from 'sharp';
import { loadAddon } from '../src/backend/native/addon.js';
import { setBackend } from '../src/backend/registry.js';
import { DataLoader, FASHION_MNIST_CLASSES, IdxDataset } from '../src/data/index.js';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { writeNpy } from '../src/io/npy.js';
import { createModel } from '../src/models/index.js';
import { calibrate, Int8AlexNet, int8Model, loadModelFile, quantizeModel, readQuantizedFile, writeQdqOnnxFile } from '../src/index.js';
import type { Batch } from '../src/quant/quantize.js';
import { Generator } from '../src/random.js';
import { noGrad, Tensor } from '../src/tensor.js';
import { materialize } from '../src/train/data.js';
import { evalTransformsFor } from '../src/train/predict.js';
import { saveFinalWeights, type ModelInfo } from '../src/train/weights.js';
import { http, startServer, top1 } from './serve_helpers.js';
import { runCli, tempDir, tinyFashionMnist } from './train_helpers.js';

const skip = loadAddon().addon ? false : `native addon unavailable: ${loadAddon().reason}`;
const NATIVE = { ALEXNET_BACKEND: 'native', ALEXNET_NUM_THREADS: '2' };
const INFO: ModelInfo = {
  arch: 'alexnet-v1',
  numClasses: 10,
  inChannels: 1,
  inputSize: 65,
  classes: [...FASHION_MNIST_CLASSES],
  evalTransforms: [
    { type: 'resize', size: [65, 65], resampler: 'pillow' },
    { type: 'toTensor' },
    { type: 'normalize', mean: [0.286], std: [0.353] },
  ],
  dataset: 'fashion-mnist',
};

let dir = '';
let data = '';
let f32Path = '';
let int8Path = '';

/** The model description of `arch` at `size` (Fashion-MNIST, one channel). */
function infoFor(arch: ModelInfo['arch'], size: number): ModelInfo {
  return {
    ...INFO,
    arch,
    inputSize: size,
    evalTransforms: [{ type: 'resize', size: [size, size], resampler: 'pillow' }, ...INFO.evalTransforms.slice(1)],
  };
}

/** The first `count` training images of the tiny dataset, preprocessed for `info`, in batches of 8. */
async function trainingBatches(info: ModelInfo, count: number): Promise<Batch[]> {
  const transforms = materialize(evalTransformsFor(info), () => {
    throw new Error('no mean image');
  });
  const loader = new DataLoader(IdxDataset.fashionMnist('train', data), { batchSize: 8, transforms, workers: 0 });
  const out: Batch[] = [];
  try {
    for await (const b of loader.iterate(0)) {
      out.push({ x: b.x, shape: b.shape });
      if (out.length * 8 >= count) break;
    }
  } finally {
    await loader.close();
  }
  return out;
}

/** Largest |a − b| and largest |b|. */
function worstAndPeak(a: ArrayLike<number>, b: ArrayLike<number>): { worst: number; peak: number } {
  let worst = 0;
  let peak = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    peak = Math.max(peak, Math.abs(b[i]!));
  }
  return { worst, peak };
}

/** One line on stderr, `alexnet: ...` matching `re`, and the exit code. */
function assertOneLine(r: { status: number | null; stderr: string }, code: number, re: RegExp): void {
  assert.equal(r.status, code, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', re);
}

before(() => {
  if (skip) return;
  dir = tempDir('int8');
  data = tinyFashionMnist(64, 40);
  setBackend('native');
  const model = createModel('alexnet-v1', { numClasses: 10, inChannels: 1, inputSize: 65, rng: new Generator(7) });
  f32Path = join(dir, 'model.pth');
  saveFinalWeights(f32Path, model, INFO);
  int8Path = join(dir, 'model_int8.safetensors');
});

test('quantize writes a self-describing int8 file that eval and predict run', { skip }, () => {
  const q = runCli(
    [
      'quantize',
      '--weights',
      f32Path,
      '--calibrate',
      `fashion-mnist=${data}`,
      '--calibration-images',
      '48',
      '--batch-size',
      '16',
      '--out',
      int8Path,
    ],
    NATIVE,
  );
  assert.equal(q.status, 0, q.stderr);
  assert.match(q.stdout, /quantized alexnet-v1 to int8 \(minmax, 48 images of fashion-mnist/);
  const { tensors, metadata } = readSafetensors(int8Path);
  assert.equal(metadata.format, 'alexnet-int8');
  assert.equal(metadata.calibration_images, '48');
  assert.equal(tensors.get('conv.0.weight')?.sourceDType, 'int8');
  assert.deepEqual(tensors.get('conv.0.weight_scale')?.shape, [96]);
  assert.equal(tensors.get('fc_layer.6.output_scale'), undefined, 'the last layer has f32 output');

  const e = runCli(['eval', '--weights', int8Path, '--dataset', `fashion-mnist=${data}`, '--json', '--out', join(dir, 'eval')], NATIVE);
  assert.equal(e.status, 0, e.stderr);
  const res = JSON.parse(e.stdout) as { images: number; top1: number; arch: string };
  assert.equal(res.images, 40);
  assert.equal(res.arch, 'alexnet-v1');

  const img = join(dir, 'image.npy');
  writeNpy(
    img,
    Float32Array.from({ length: 65 * 65 }, (_, i) => Math.sin(i / 50)),
    [1, 65, 65],
  );
  const p = runCli(['predict', img, '--weights', int8Path, '--topk', '3', '--json'], NATIVE);
  assert.equal(p.status, 0, p.stderr);
  const preds = (JSON.parse(p.stdout) as { predictions: { index: number; class: string; probability: number }[] }[])[0]!.predictions;
  assert.equal(preds.length, 3);
  assert.ok(FASHION_MNIST_CLASSES.includes(preds[0]!.class), 'class names come from the file');
  // The same as the library's int8 model (its public entry) on that input.
  setBackend('native');
  const { model } = loadModelFile(int8Path);
  assert.ok(model instanceof Int8AlexNet);
  const x = Tensor.fromArray(
    Float32Array.from({ length: 65 * 65 }, (_, i) => Math.sin(i / 50)),
    [1, 1, 65, 65],
  );
  const logits = model.forward(x).toArray();
  const top = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!);
  assert.deepEqual(
    preds.map((q) => q.index),
    top.slice(0, 3),
  );
});

test('the int8 model: native and reference engines agree, and its logits follow the f32 model', { skip }, () => {
  setBackend('native');
  const q = readQuantizedFile(int8Path);
  const native = int8Model(q, 'native');
  const reference = int8Model(q, 'reference');
  assert.equal(native.engine.name, 'native');
  assert.equal(reference.engine.name, 'reference');
  const gen = new Generator(3);
  const n = 3;
  const x = Float32Array.from({ length: n * 65 * 65 }, () => (gen.uniform() - 0.3) * 2.5);
  const a = native.engine.run(x, n);
  const b = reference.engine.run(x, n);
  const f32 = createModel('alexnet-v1', { numClasses: 10, inChannels: 1, inputSize: 65, rng: new Generator(7) });
  f32.eval();
  const want = noGrad(() => f32.forward(Tensor.fromArray(x, [n, 1, 65, 65])).toArray());
  const peak = Math.max(...want.map(Math.abs));
  const diff = (u: ArrayLike<number>, v: ArrayLike<number>): number => Math.max(...Array.from(u, (t, i) => Math.abs(t - v[i]!)));
  assert.ok(diff(a, b) <= 0.02 * peak, `native vs reference engine: ${diff(a, b)} (peak ${peak})`);
  assert.ok(diff(a, want) <= 0.1 * peak, `int8 vs f32 logits: ${diff(a, want)} (peak ${peak})`);
});

test('quantize --calibrator entropy: ranges clipped inside min-max, logits that follow the f32 model', { skip }, async () => {
  const path = join(dir, 'model_entropy.safetensors');
  const args = ['quantize', '--weights', f32Path, '--calibrate', `fashion-mnist=${data}`, '--calibration-images', '48'];
  const r = runCli([...args, '--calibrator', 'entropy', '--batch-size', '48', '--out', path], NATIVE);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /quantized alexnet-v1 to int8 \(entropy, 48 images/);
  const entropy = readQuantizedFile(path);
  const minmax = readQuantizedFile(int8Path);
  assert.equal(entropy.calibrator, 'entropy');
  let clipped = 0;
  for (const [name, l] of entropy.layers) {
    const m = minmax.layers.get(name)!;
    if (l.outputScale === null) continue;
    assert.ok(l.outputScale <= m.outputScale! * (1 + 1e-6), `${name}: entropy range ${l.outputScale} above min-max ${m.outputScale}`);
    if (l.outputScale < m.outputScale! * 0.95) clipped++;
  }
  assert.ok(clipped > 0, 'entropy clips at least one activation');
  // On the first 8 calibration images, preprocessed as quantize preprocessed them.
  setBackend('native');
  const transforms = materialize(evalTransformsFor(INFO), () => {
    throw new Error('no mean image');
  });
  const loader = new DataLoader(IdxDataset.fashionMnist('train', data), { batchSize: 8, transforms, workers: 0 });
  let batch: { x: Float32Array; shape: readonly number[] } | undefined;
  try {
    for await (const b of loader.iterate(0)) {
      batch = b;
      break;
    }
  } finally {
    await loader.close();
  }
  const n = batch!.shape[0]!;
  const f32 = createModel('alexnet-v1', { numClasses: 10, inChannels: 1, inputSize: 65, rng: new Generator(7) });
  f32.eval();
  const want = noGrad(() => f32.forward(Tensor.fromArray(batch!.x, [n, 1, 65, 65])).toArray());
  const error = (q: typeof entropy): number => {
    const got = int8Model(q, 'native').engine.run(batch!.x, n);
    return Math.max(...Array.from(got, (t, i) => Math.abs(t - want[i]!)));
  };
  const peak = Math.max(...want.map(Math.abs));
  const [e, m] = [error(entropy), error(minmax)];
  assert.ok(e <= 0.1 * peak, `int8 (entropy) vs f32 logits: ${e} (min-max ${m}, peak ${peak})`);
});

test('alexnet-2012 (LRN as f32 islands, two towers as groups) quantizes and runs: native ≈ reference ≈ f32', { skip }, async () => {
  setBackend('native');
  const info = infoFor('alexnet-2012', 67);
  const f32 = createModel('alexnet-2012', { numClasses: 10, inChannels: 1, inputSize: 67, rng: new Generator(1) });
  const path = join(dir, 'a2012.pth');
  saveFinalWeights(path, f32, info);
  const out = join(dir, 'a2012_int8.safetensors');
  const r = runCli(
    ['quantize', '--weights', path, '--calibrate', `fashion-mnist=${data}`, '--calibration-images', '48', '--out', out],
    NATIVE,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /quantized alexnet-2012 to int8/);
  const q = readQuantizedFile(out);
  assert.deepEqual(q.layers.get('features.4')?.shape, [256, 48, 5, 5], 'conv2 is grouped');
  const [batch] = await trainingBatches(info, 8);
  const n = 2;
  const x = batch!.x.subarray(0, n * 67 * 67);
  const native = int8Model(q, 'native').engine.run(x, n);
  const reference = int8Model(q, 'reference').engine.run(x, n);
  f32.eval();
  const want = noGrad(() => f32.forward(Tensor.fromArray(x, [n, 1, 67, 67])).toArray());
  const engines = worstAndPeak(native, reference);
  assert.ok(engines.peak > 0 && engines.worst <= 0.02 * engines.peak, `native vs reference: ${engines.worst} (peak ${engines.peak})`);
  const vsF32 = worstAndPeak(native, want);
  assert.ok(vsF32.worst <= 0.1 * vsF32.peak, `int8 vs f32: ${vsF32.worst} (peak ${vsF32.peak})`);
  // Its QDQ export (LRN between the ReLU and the output's QDQ) in ONNX Runtime.
  const onnx = join(dir, 'a2012_int8.onnx');
  writeQdqOnnxFile(out, onnx);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx);
  const theirs = (await session.run({ input: new ort.Tensor('float32', x, [n, 1, 67, 67]) })).output!.data as Float32Array;
  const vsOrt = worstAndPeak(theirs, native);
  assert.ok(vsOrt.worst <= 0.03 * vsOrt.peak, `ONNX Runtime vs ours: ${vsOrt.worst} (peak ${vsOrt.peak})`);
});

test('alexnet at 63×63, where the adaptive pool resizes 1×1 to 6×6: native ≈ reference ≈ f32', { skip }, async () => {
  setBackend('native');
  const info = infoFor('alexnet', 63);
  const f32 = createModel('alexnet', { numClasses: 10, inChannels: 1, inputSize: 63, rng: new Generator(2) });
  const batches = await trainingBatches(info, 24);
  async function* each(): AsyncGenerator<Batch> {
    yield* batches;
  }
  const ranges = await calibrate(f32, each(), { calibrator: 'percentile', images: 24 });
  const q = quantizeModel(f32, ranges, { info, calibrator: 'percentile', calibrationData: 'tiny' });
  const n = 2;
  const x = batches[0]!.x.subarray(0, n * 63 * 63);
  const native = int8Model(q, 'native').engine.run(x, n);
  const reference = int8Model(q, 'reference').engine.run(x, n);
  f32.eval();
  const want = noGrad(() => f32.forward(Tensor.fromArray(x, [n, 1, 63, 63])).toArray());
  const engines = worstAndPeak(native, reference);
  assert.ok(engines.peak > 0 && engines.worst <= 0.02 * engines.peak, `native vs reference: ${engines.worst} (peak ${engines.peak})`);
  const vsF32 = worstAndPeak(native, want);
  assert.ok(vsF32.worst <= 0.1 * vsF32.peak, `int8 vs f32: ${vsF32.worst} (peak ${vsF32.peak})`);
});

test('bench --precision int8 times a quantized file', { skip }, () => {
  const r = runCli(
    ['bench', '--precision', 'int8', '--weights', int8Path, '--batch', '2', '--iters', '1', '--warmup', '1', '--json'],
    NATIVE,
  );
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { precision: string; arch: string; img_per_s: number };
  assert.equal(res.precision, 'int8');
  assert.equal(res.arch, 'alexnet-v1');
  assert.ok(res.img_per_s > 0);
});

test('quantize and int8 errors are one line with the right exit code', { skip }, () => {
  const base = ['quantize', '--weights', f32Path, '--out', join(dir, 'x.safetensors')];
  assertOneLine(
    runCli([...base, '--calibrate', join(dir, 'missing')], NATIVE),
    1,
    /--calibrate .*missing: no such dataset folder or prepared file/,
  );
  assertOneLine(runCli([...base, '--calibrate', 'fashion-mnist=/nonexistent']), 1, /train-images-idx3-ubyte.gz does not exist/);
  assertOneLine(
    runCli(['quantize', '--weights', f32Path, '--calibrate', `fashion-mnist=${data}`, '--out', join(dir, 'x.pth')]),
    2,
    /a quantized model is a \.safetensors file/,
  );
  assertOneLine(runCli([...base, '--calibrate', 'x', '--calibrator', 'kl']), 2, /calibrator/);
  // An f32 file where int8 is expected.
  assertOneLine(runCli(['bench', '--precision', 'int8', '--weights', f32Path], NATIVE), 1, /not a quantized model/);
  // A corrupt file: truncated, and one with a tensor missing.
  const bytes = readFileSync(int8Path);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
  assertOneLine(
    runCli(['eval', '--weights', cut, '--dataset', `fashion-mnist=${data}`, '--out', join(dir, 'e2')], NATIVE),
    1,
    /cut\.safetensors: bad safetensors file/,
  );
  const { tensors, metadata } = readSafetensors(int8Path);
  tensors.delete('conv.3.weight_scale');
  const holed = join(dir, 'holed.safetensors');
  writeSafetensors(
    holed,
    new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.sourceDType === 'int8' ? Int8Array.from(t.data) : t.data }])),
    metadata,
  );
  assertOneLine(
    runCli(['predict', join(dir, 'image.npy'), '--weights', holed], NATIVE),
    1,
    /holed\.safetensors: missing tensor 'conv\.3\.weight_scale'/,
  );
});

test('serve answers with an int8 model: the classes predict gives for the same image', { skip }, async () => {
  const png = join(dir, 'shirt.png');
  const pixels = Buffer.from(Array.from({ length: 28 * 28 }, (_, i) => ((i % 28) * 9 + Math.floor(i / 28) * 4) & 255));
  await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(png);
  const p = runCli(['predict', png, '--weights', int8Path, '--json'], NATIVE);
  assert.equal(p.status, 0, p.stderr);
  const want = (JSON.parse(p.stdout) as { predictions: { index: number }[] }[])[0]!.predictions[0]!.index;
  const served = await startServer(['--weights', int8Path, '--max-batch', '4'], NATIVE);
  try {
    const body = readFileSync(png);
    const answers = await Promise.all(
      [1, 2, 3].map(() => http(`${served.base}/v1/predict`, { body, headers: { 'content-type': 'image/png' } })),
    );
    for (const a of answers) {
      assert.equal(a.status, 200, a.body);
      assert.equal(top1(a), want);
    }
  } finally {
    served.child.kill('SIGTERM');
  }
  assert.equal((await served.exited).code, 0, served.stderr());
});

test('convert exports the int8 model as QDQ ONNX, and ONNX Runtime computes our int8 logits', { skip }, async () => {
  const onnx = join(dir, 'model_int8.onnx');
  const r = runCli(['convert', int8Path, onnx]);
  assert.equal(r.status, 0, r.stderr);
  assertOneLine(runCli(['convert', int8Path, join(dir, 'back.pth')]), 2, /is a quantized model: it converts only to \.onnx/);
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnx);
  const n = 4;
  const x = Float32Array.from({ length: n * 65 * 65 }, (_, i) => Math.sin(i / 37) * 1.5);
  const theirs = (await session.run({ input: new ort.Tensor('float32', x, [n, 1, 65, 65]) })).output!.data as Float32Array;
  setBackend('native');
  const ours = int8Model(readQuantizedFile(int8Path), 'native').engine.run(x, n);
  assert.equal(theirs.length, ours.length);
  let diff = 0;
  let peak = 0;
  for (let i = 0; i < ours.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - theirs[i]!));
    peak = Math.max(peak, Math.abs(ours[i]!));
  }
  assert.ok(peak > 0.01, `logits are not all near zero (peak ${peak})`);
  assert.ok(diff <= 0.03 * peak, `ONNX Runtime vs ours: ${diff} (peak ${peak})`);
});
