// The platform-neutral int8 loader (src/quant/neutral.ts, the browser bundle's `quant`): a quantized
// model file's bytes are recognised, read and checked as the Node loader reads them, and
// dequantized to an f32 AlexNet whose logits follow the int8 network's; loadModel refuses the file
// with a message that points there; damaged bytes are one DataError naming the key. No addon: the
// int8 side runs on the TypeScript reference. The web page's engine (src/web/engine/weights.ts)
// loads such a file as its dequantized model, labelled so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setBackend } from '../src/backend/registry.js';
import { DataError, UsageError } from '../src/errors.js';
import { encodeSafetensors } from '../src/io/safetensors_format.js';
import { loadModel, quant } from '../src/browser.js';
import { encodeWeights } from '../src/io/web_weights.js';
import { createModel } from '../src/models/index.js';
import { quantizedTensors } from '../src/quant/format.js';
import { int8Model } from '../src/quant/load.js';
import { calibrate, quantizeModel, type Batch, type QuantizedModel } from '../src/quant/quantize.js';
import { Generator } from '../src/random.js';
import { modelFromBytes } from '../src/web/engine/weights.js';
import { noGrad, Tensor } from '../src/tensor.js';

const SIZE = 65;

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function fileBytes(q: QuantizedModel, edit?: (t: ReturnType<typeof quantizedTensors>) => void): Uint8Array {
  const contents = quantizedTensors(q);
  edit?.(contents);
  return concat(encodeSafetensors(contents.tensors, contents.metadata));
}

/** An alexnet-v1 (one channel, 65×65) quantized on 4 random images, its f32 model and 2 test images. */
async function quantize(): Promise<{ q: QuantizedModel; f32: ReturnType<typeof createModel>; x: Float32Array }> {
  setBackend('reference');
  const gen = new Generator(9);
  const f32 = createModel('alexnet-v1', { numClasses: 10, inChannels: 1, inputSize: SIZE, rng: gen });
  const images = (n: number): Float32Array => Float32Array.from({ length: n * SIZE * SIZE }, () => gen.uniform() * 2 - 0.5);
  async function* batches(): AsyncGenerator<Batch> {
    yield { x: images(4), shape: [4, 1, SIZE, SIZE] };
  }
  const ranges = await calibrate(f32, batches(), { calibrator: 'minmax', images: 4 });
  const info = {
    arch: 'alexnet-v1' as const,
    numClasses: 10,
    inChannels: 1,
    inputSize: SIZE,
    classes: Array.from({ length: 10 }, (_, i) => `class ${i}`),
    evalTransforms: [],
  };
  return { q: quantizeModel(f32, ranges, { info, calibrator: 'minmax', calibrationData: 'random' }), f32: f32.eval(), x: images(2) };
}

let made: ReturnType<typeof quantize> | undefined;
/** The quantized model, made once for both tests. */
const quantized = (): ReturnType<typeof quantize> => (made ??= quantize());

test('int8 bytes: recognised, read as the Node loader reads them, dequantized to an f32 model that follows int8', async () => {
  const { q, f32, x } = await quantized();
  const bytes = fileBytes(q);
  assert.equal(quant.isQuantizedBytes(bytes), true);
  assert.equal(quant.isQuantizedBytes(concat(encodeWeights(f32, 'safetensors'))), false, 'f32 safetensors');
  assert.equal(quant.isQuantizedBytes(new Uint8Array([1, 2, 3])), false, 'too short');
  const read = quant.readQuantizedBytes(bytes, 'm.safetensors');
  assert.equal(read.arch, 'alexnet-v1');
  assert.deepEqual(read.info.classes, q.info.classes);
  assert.equal(read.inputScale, Math.fround(q.inputScale));
  assert.deepEqual([...read.layers.keys()], [...q.layers.keys()]);
  assert.deepEqual([...read.layers.get('conv.3')!.weight], [...q.layers.get('conv.3')!.weight]);

  const { model, quantized: loaded, note } = await quant.loadDequantizedModel(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  assert.equal(loaded.numClasses, 10);
  assert.match(note, /int8 kernels run only on the native backend/);
  // Dequantized weights: q · scale exactly.
  const w = model
    .namedParameters()
    .find(([k]) => k === 'fc_layer.3.weight')![1]
    .toArray();
  const ql = q.layers.get('fc_layer.3')!;
  const per = ql.weight.length / ql.weightScales.length;
  for (const i of [0, 12345, ql.weight.length - 1]) assert.equal(w[i], Math.fround(ql.weight[i]! * ql.weightScales[Math.floor(i / per)]!));
  // Logits: the dequantized f32 model, the int8 network (reference engine) and the original f32 model agree closely.
  const input = Tensor.fromArray(x, [2, 1, SIZE, SIZE]);
  const deq = noGrad(() => model.forward(input).toArray());
  const orig = noGrad(() => f32.forward(input).toArray());
  const int8 = int8Model(read, 'reference').engine.run(x, 2);
  const peak = Math.max(...orig.map(Math.abs));
  const worst = (a: ArrayLike<number>): number => Math.max(...Array.from(a, (v, i) => Math.abs(v - orig[i]!)));
  assert.ok(peak > 0);
  assert.ok(worst(deq) <= 0.05 * peak, `dequantized vs f32: ${worst(deq)} (peak ${peak})`);
  assert.ok(worst(int8) <= 0.1 * peak, `int8 vs f32: ${worst(int8)} (peak ${peak})`);
  const deqVsInt8 = Math.max(...Array.from(deq, (v, i) => Math.abs(v - int8[i]!)));
  assert.ok(deqVsInt8 <= 0.1 * peak, `dequantized vs int8: ${deqVsInt8}`);
});

test('int8 bytes: loadModel refuses them naming the way, damaged files are one DataError naming the key', async () => {
  const { q } = await quantized();
  await assert.rejects(
    loadModel(fileBytes(q)),
    (e: unknown) =>
      e instanceof UsageError && /<buffer> is a quantized \(int8\) model: .*native backend.*loadDequantizedModel/.test(e.message),
  );
  const holed = fileBytes(q, (c) => c.tensors.delete('conv.6.weight_scale'));
  assert.throws(
    () => quant.readQuantizedBytes(holed, 'holed.safetensors'),
    (e: unknown) => e instanceof DataError && e.message === "holed.safetensors: missing tensor 'conv.6.weight_scale'",
  );
  const badScale = fileBytes(q, (c) => c.tensors.set('input_scale', { shape: [1], data: Float32Array.of(-1) }));
  assert.throws(() => quant.readQuantizedBytes(badScale), /'input_scale' holds a scale that is not finite and positive/);
  const badInfo = fileBytes(q, (c) => (c.metadata.model_info = JSON.stringify({ classes: [1, 2] })));
  assert.throws(() => quant.readQuantizedBytes(badInfo), /model_info\): classes is not a list of names/);
  const cut = fileBytes(q).subarray(0, 5000);
  assert.throws(
    () => quant.readQuantizedBytes(cut, 'cut'),
    (e: unknown) => e instanceof DataError && /^cut: /.test(e.message),
  );
  await assert.rejects(
    quant.loadDequantizedModel(concat(encodeWeights(createModel('alexnet-v1', { numClasses: 2, init: 'none' }), 'safetensors'))),
    /not a quantized model/,
  );
});

test("int8 bytes in the web page's engine: the dequantized f32 model, labelled int8, another architecture refused", async () => {
  const { q } = await quantized();
  const bytes = fileBytes(q);
  const { model, source } = modelFromBytes(bytes, 'v1-int8.safetensors', 'alexnet-v1');
  assert.equal(source, 'v1-int8.safetensors (int8 model, dequantized to f32)');
  // Every weight layer dequantized (q · scale per output channel, sampled), biases as stored.
  const params = new Map(model.namedParameters());
  for (const [prefix, l] of q.layers) {
    const w = params.get(`${prefix}.weight`)!.toArray();
    const per = l.weight.length / l.weightScales.length;
    for (const i of [0, Math.floor(l.weight.length / 2), l.weight.length - 1])
      assert.equal(w[i], Math.fround(l.weight[i]! * l.weightScales[Math.floor(i / per)]!), `${prefix}.weight[${i}]`);
    assert.deepEqual(Array.from(params.get(`${prefix}.bias`)!.toArray()), Array.from(Float32Array.from(l.bias)), `${prefix}.bias`);
  }
  assert.throws(
    () => modelFromBytes(bytes, 'v1-int8.safetensors', 'alexnet'),
    (e: unknown) => e instanceof UsageError && /v1-int8.safetensors holds alexnet-v1 weights, not alexnet/.test(e.message),
  );
});
