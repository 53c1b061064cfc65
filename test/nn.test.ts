// Modules and models: parameter names and order equal PyTorch's state-dict keys, strict
// loadStateDict errors name the key and shapes, train/eval, the paper's initialisation,
// PyTorch's default init bounds, and tidy() releasing what a step creates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { DataError } from '../src/errors.js';
import { createModel } from '../src/models/index.js';
import { Conv2d, Dropout, Linear, ReLU, Sequential } from '../src/nn/index.js';
import { crossEntropy } from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { liveTensorCount, noGrad, Tensor, tidy } from '../src/tensor.js';

setBackend(referenceBackend());

describe('state-dict keys match the PyTorch definitions', () => {
  test('alexnet (torchvision)', () => {
    const keys = [...createModel('alexnet', { numClasses: 10 }).stateDict().keys()];
    assert.deepEqual(keys, [
      'features.0.weight',
      'features.0.bias',
      'features.3.weight',
      'features.3.bias',
      'features.6.weight',
      'features.6.bias',
      'features.8.weight',
      'features.8.bias',
      'features.10.weight',
      'features.10.bias',
      'classifier.1.weight',
      'classifier.1.bias',
      'classifier.4.weight',
      'classifier.4.bias',
      'classifier.6.weight',
      'classifier.6.bias',
    ]);
  });
  test('alexnet-v1', () => {
    const sd = createModel('alexnet-v1', { numClasses: 10 }).stateDict();
    assert.deepEqual(
      [...sd.keys()].filter((k) => k.endsWith('weight')),
      [
        'conv.0.weight',
        'conv.3.weight',
        'conv.6.weight',
        'conv.8.weight',
        'conv.10.weight',
        'fc_layer.0.weight',
        'fc_layer.3.weight',
        'fc_layer.6.weight',
      ],
    );
    assert.deepEqual(sd.get('fc_layer.6.bias')!.shape, [10]);
    assert.deepEqual(sd.get('conv.0.weight')!.shape, [96, 3, 11, 11]);
  });
  test('alexnet-2012: two towers as groups=2', () => {
    const sd = createModel('alexnet-2012', { numClasses: 10 }).stateDict();
    assert.deepEqual(sd.get('features.4.weight')!.shape, [256, 48, 5, 5]);
    assert.deepEqual(sd.get('features.10.weight')!.shape, [384, 192, 3, 3]);
    assert.deepEqual(sd.get('features.12.weight')!.shape, [256, 192, 3, 3]);
    assert.deepEqual(sd.get('classifier.0.weight')!.shape, [4096, 9216]);
  });
});

describe('loadStateDict is strict and names what is wrong', () => {
  const model = createModel('alexnet', { numClasses: 3 });
  const full = () => new Map([...model.stateDict()].map(([k, v]) => [k, v.detach()]));
  test('missing key', () => {
    const sd = full();
    sd.delete('features.3.bias');
    assert.throws(
      () => model.loadStateDict(sd),
      (e: Error) => e instanceof DataError && /missing key 'features\.3\.bias'/.test(e.message),
    );
  });
  test('unexpected key', () => {
    const sd = full();
    sd.set('features.99.weight', Tensor.zeros([1]));
    assert.throws(() => model.loadStateDict(sd), /unexpected key 'features\.99\.weight'/);
  });
  test('misshapen key names expected and found shapes', () => {
    const sd = full();
    sd.set('classifier.6.weight', Tensor.zeros([1000, 4096]));
    assert.throws(() => model.loadStateDict(sd), /'classifier\.6\.weight' has shape \[1000, 4096\], the model expects \[3, 4096\]/);
  });
  test('non-strict loads what matches', () => {
    const sd = new Map([['classifier.6.bias', Tensor.fromArray([1, 2, 3])]]);
    model.loadStateDict(sd, { strict: false });
    assert.deepEqual(Array.from(model.stateDict().get('classifier.6.bias')!.toArray()), [1, 2, 3]);
  });
});

test('train() and eval() reach every module; dropout is the identity in eval', () => {
  const seq = new Sequential(new Linear(4, 4), new ReLU(), new Dropout(0.5));
  seq.eval();
  assert.ok(seq.namedModules().every(([, m]) => !m.training));
  const x = Tensor.fromArray(new Float32Array(8).fill(1), [2, 4]);
  const y1 = seq.forward(x).toArray();
  const y2 = seq.forward(x).toArray();
  assert.deepEqual(Array.from(y1), Array.from(y2));
  seq.train();
  assert.ok(seq.namedModules().every(([, m]) => m.training));
});

test("PyTorch's default init: U(±1/√fan_in) for weight and bias", () => {
  const conv = new Conv2d(6, 8, 3, { groups: 2, rng: new Generator(1) });
  const bound = 1 / Math.sqrt(3 * 9);
  for (const t of [conv.weight, conv.bias!]) assert.ok(t.toArray().every((x) => Math.abs(x) <= bound));
  // 216 uniform weights reach close to the bound.
  assert.ok(Math.max(...conv.weight.toArray().map(Math.abs)) > bound * 0.9);
});

test('Xavier init (d2l): weights U(±√(6/(fan_in+fan_out))) with fans as PyTorch counts them, biases kept', () => {
  const m = createModel('alexnet-v1', { numClasses: 10, inChannels: 1, inputSize: 65, init: 'xavier', rng: new Generator(5) });
  const sd = m.stateDict();
  // conv2: [256, 96, 5, 5] -> fan_in 96·25, fan_out 256·25; FC8: [10, 4096].
  for (const [key, fanIn, fanOut] of [
    ['conv.3.weight', 96 * 25, 256 * 25],
    ['fc_layer.6.weight', 4096, 10],
  ] as const) {
    const bound = Math.sqrt(6 / (fanIn + fanOut));
    const w = sd.get(key)!.toArray();
    assert.ok(
      w.every((x) => Math.abs(x) <= bound),
      key,
    );
    assert.ok(Array.from(w).reduce((m, x) => Math.max(m, Math.abs(x)), 0) > bound * 0.95, key);
  }
  // Biases stay PyTorch's U(±1/√fan_in).
  assert.ok(
    sd
      .get('fc_layer.6.bias')!
      .toArray()
      .every((x) => Math.abs(x) <= 1 / Math.sqrt(4096)),
  );
});

test("the paper's init: N(0, 0.01) weights, biases 1 in conv2, conv4, conv5, FC6, FC7", () => {
  const m = createModel('alexnet-2012', { numClasses: 10, init: 'paper', rng: new Generator(3) });
  const sd = m.stateDict();
  const ones = ['features.4.bias', 'features.10.bias', 'features.12.bias', 'classifier.0.bias', 'classifier.3.bias'];
  const zeros = ['features.0.bias', 'features.8.bias', 'classifier.6.bias'];
  for (const k of ones)
    assert.ok(
      sd
        .get(k)!
        .toArray()
        .every((v) => v === 1),
      k,
    );
  for (const k of zeros)
    assert.ok(
      sd
        .get(k)!
        .toArray()
        .every((v) => v === 0),
      k,
    );
  const w = sd.get('classifier.0.weight')!.toArray();
  let s = 0;
  let s2 = 0;
  for (const v of w) {
    s += v;
    s2 += v * v;
  }
  const mean = s / w.length;
  const std = Math.sqrt(s2 / w.length - mean * mean);
  assert.ok(Math.abs(mean) < 1e-4 && Math.abs(std - 0.01) < 1e-4, `mean ${mean} std ${std}`);
});

test('models reject inputs of the wrong size, naming the size they expect', () => {
  const m = createModel('alexnet-v1', { numClasses: 2 });
  assert.throws(() => noGrad(() => m.forward(Tensor.zeros([1, 3, 224, 224]))), /alexnet-v1 expects input \[N, 3, 227, 227\]/);
  const fitted = createModel('alexnet-v1', { numClasses: 2, inChannels: 1, inputSize: 224 });
  assert.deepEqual(fitted.outputShape([4, 1, 224, 224]), [4, 2]);
  assert.equal(fitted.stateDict().get('fc_layer.0.weight')!.shape[1], 256 * 5 * 5);
});

test('optimiser state made inside tidy() survives it', () => {
  const model = new Sequential(new Linear(3, 2));
  const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const x = Tensor.fromArray(new Float32Array(6).fill(1), [2, 3]);
  for (let i = 0; i < 3; i++) {
    tidy(() => {
      crossEntropy(model.forward(x), [0, 1]).backward();
      opt.step();
      opt.zeroGrad();
    });
  }
  assert.ok(opt.stateDict().buffers.every((b) => b !== null && !b.isDisposed));
});

test('tidy() frees everything a training step creates except what it returns', () => {
  const model = new Sequential(new Linear(6, 5), new ReLU(), new Linear(5, 3));
  const x = Tensor.fromArray(new Float32Array(12).fill(0.5), [2, 6]);
  const before = liveTensorCount();
  const loss = tidy(() => {
    const l = crossEntropy(model.forward(x), [0, 2]);
    l.backward();
    return l.item();
  });
  assert.ok(Number.isFinite(loss));
  // Only the gradients of the four parameters remain.
  assert.equal(liveTensorCount() - before, 4);
  model.zeroGrad();
  assert.equal(liveTensorCount(), before);
});
