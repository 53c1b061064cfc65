// bf16 mode of the native backend against the f32 reference. Convolutions and inner products
// round src, weights and the output gradient to bf16 (8 significant bits: relative rounding error
// ≤ 2^-9 ≈ 0.2% per operand) and accumulate in f32, so one output element's relative error is a
// few 0.1% and, measured as max|diff| / max|ref| over a tensor, stays below 1%; the tolerance is
// 2e-2. Weight gradients sum N·OH·OW products with cancelling signs, so they get 3e-2.
// Activations between layers are bf16 as in PyTorch's autocast: convolutions and hidden linear
// layers (ReLU fused) write bf16, ReLU, max pooling and dropout run on bf16, activation gradients
// through convolutions are bf16; the logits, LRN, weight gradients and f32 master weights stay f32.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Backend, ConvGeometry, FloatArray, LinearGeometry, Shape, Storage } from '../src/backend/backend.js';
import { setBackend } from '../src/backend/registry.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { Conv2d, Linear, LocalResponseNorm, MaxPool2d, ReLU, Sequential } from '../src/nn/index.js';
import { crossEntropy, flatten } from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Tensor } from '../src/tensor.js';
import { convGeometry, poolGeometry } from '../src/backend/conv_util.js';
import { miniAlexNet } from './mini_alexnet.js';
import { assertClose, nativeBf16, pairOf, randomArray, reference, relError, size } from './native_helpers.js';

const skip: string | false = nativeBf16 ? false : 'native bf16 unavailable (addon not built or CPU without native bf16)';
const nb = nativeBf16 as Backend;

for (const [name, xs, ws, stride, pad, groups] of [
  ['5x5 grouped', [4, 32, 13, 13], [64, 16, 5, 5], 1, 2, 2],
  ['3x3', [4, 64, 13, 13], [96, 64, 3, 3], 1, 1, 1],
] as [string, Shape, Shape, number, number, number][]) {
  test(`bf16 conv2d forward/backward: ${name}`, { skip }, () => {
    const g = convGeometry(xs, ws, [stride, stride], [pad, pad], groups);
    const x = pairOf(randomArray(size(xs), 1), xs, nb);
    const w = pairOf(randomArray(size(ws), 2, 0.2), ws, nb);
    const b = pairOf(randomArray(ws[0]!, 3), [ws[0]!], nb);
    const yShape = [g.n, g.oc, g.oh, g.ow];
    const y = nb.conv2d(x.n, w.n, b.n, g, true);
    const yr = reference.conv2d(x.r, w.r, b.r, g, true);
    assertClose('y', nb, y, yr, yShape, 2e-2);
    // The rounding is visible: this really ran in bf16, not f32.
    assert.ok(relError(nb.toArray(y, yShape), reference.toArray(yr, yShape)) > 1e-4, 'bf16 conv gave f32-exact results');
    const gy = pairOf(randomArray(size(yShape), 4), yShape, nb);
    assertClose('dx', nb, nb.conv2dBackwardData(gy.n, w.n, g), reference.conv2dBackwardData(gy.r, w.r, g), xs, 2e-2);
    const gn = nb.conv2dBackwardWeights(gy.n, x.n, g, true);
    const gr = reference.conv2dBackwardWeights(gy.r, x.r, g, true);
    assertClose('dw', nb, gn.gw, gr.gw, ws, 3e-2);
    assertClose('db', nb, gn.gb!, gr.gb!, [ws[0]!], 3e-2);
  });
}

test('bf16 linear forward/backward', { skip }, () => {
  const g = { m: 16, k: 300, n: 40 };
  const x = pairOf(randomArray(g.m * g.k, 10), [g.m, g.k], nb);
  const w = pairOf(randomArray(g.n * g.k, 11, 0.1), [g.n, g.k], nb);
  const b = pairOf(randomArray(g.n, 12), [g.n], nb);
  assertClose('y', nb, nb.linear(x.n, w.n, b.n, g, false), reference.linear(x.r, w.r, b.r, g, false), [g.m, g.n], 2e-2);
  const gy = pairOf(randomArray(g.m * g.n, 13), [g.m, g.n], nb);
  assertClose('dx', nb, nb.linearBackwardData(gy.n, w.n, g), reference.linearBackwardData(gy.r, w.r, g), [g.m, g.k], 2e-2);
  const gn = nb.linearBackwardWeights(gy.n, x.n, g, true);
  const gr = reference.linearBackwardWeights(gy.r, x.r, g, true);
  assertClose('dw', nb, gn.gw, gr.gw, [g.n, g.k], 3e-2);
});

test('bf16 keeps f32 master weights: small SGD updates are not lost to bf16 rounding', { skip }, () => {
  const n = 256;
  const w = nb.fromArray(new Float32Array(n).fill(1), [n]);
  const grad = nb.fromArray(new Float32Array(n).fill(1), [n]);
  // 1 - 1e-4 is not representable in bf16 (spacing 2^-8 near 1); in f32 it is.
  for (let i = 0; i < 10; i++)
    nb.sgdStep(w, grad, null, n, { lr: 1e-4, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, i === 0);
  const got = nb.toArray(w, [n]);
  assert.ok(Math.abs(got[0]! - (1 - 1e-3)) < 1e-6, `weight ${got[0]}`);
});

/**
 * The reference backend with bf16 rounding (round-to-nearest-even) of every conv/inner-product
 * operand and of the activations the native backend keeps in bf16 (conv outputs and input
 * gradients, hidden linear outputs): rounded activations change max-pool argmaxes at near-ties,
 * which moves whole gradient entries, so an emulation without them is 0.25 away in early layers.
 */
class Bf16EmulatedReference extends ReferenceBackend {
  private round(s: Storage): Storage {
    const a = Float32Array.from(reference.toArray(s, [s.size]));
    const bits = new Uint32Array(a.buffer);
    for (let i = 0; i < bits.length; i++) bits[i] = ((bits[i]! + 0x7fff + ((bits[i]! >>> 16) & 1)) & 0xffff0000) >>> 0;
    return reference.fromArray(a, [a.length]);
  }
  override conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean): Storage {
    return this.round(super.conv2d(this.round(x), this.round(w), b, g, relu));
  }
  override conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    return this.round(super.conv2dBackwardData(this.round(gy), this.round(w), g));
  }
  override conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    return super.conv2dBackwardWeights(this.round(gy), this.round(x), g, withBias);
  }
  override linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean): Storage {
    const y = super.linear(this.round(x), this.round(w), b, g, relu);
    return relu ? this.round(y) : y; // a hidden layer's output is bf16, the logits f32
  }
  override linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    return super.linearBackwardData(this.round(gy), this.round(w), g);
  }
  override linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    return super.linearBackwardWeights(this.round(gy), this.round(x), g, withBias);
  }
}

/** Loss and every parameter gradient of a small two-tower AlexNet-like net on `be`. */
function smallNetGrads(be: Backend): { loss: number; grads: Map<string, Float32Array> } {
  setBackend(be);
  try {
    const features = new Sequential(
      new Conv2d(3, 16, 7, { stride: 2 }),
      new ReLU(),
      new LocalResponseNorm(5, 1e-3, 0.75, 2),
      new MaxPool2d(3, 2),
      new Conv2d(16, 32, 3, { padding: 1, groups: 2 }),
      new ReLU(),
      new MaxPool2d(3, 2),
    );
    const classifier = new Sequential(new Linear(32 * 3 * 3, 24), new ReLU(), new Linear(24, 5));
    const net = new Sequential(features, classifier);
    // The same parameters on every backend.
    net.loadStateDict(new Map(net.namedParameters().map(([n, p], i) => [n, Tensor.fromArray(randomArray(p.size, 200 + i, 0.3), p.shape)])));
    const params = net.namedParameters();
    const x = Tensor.fromArray(randomArray(4 * 3 * 35 * 35, 300), [4, 3, 35, 35]);
    const loss = crossEntropy(classifier.forward(flatten(features.forward(x), 1)), [0, 1, 2, 3]);
    loss.backward();
    return { loss: loss.item(), grads: new Map(params.map(([n, p]) => [n, Float32Array.from(p.grad!.toArray())])) };
  } finally {
    setBackend('reference');
  }
}

test('bf16 network gradients equal the reference backend with bf16-rounded operands', { skip }, () => {
  const want = smallNetGrads(new Bf16EmulatedReference());
  const got = smallNetGrads(nb);
  assert.ok(Math.abs(got.loss - want.loss) < 1e-3 * Math.abs(want.loss), `loss ${got.loss} vs ${want.loss}`);
  for (const [name, g] of want.grads) {
    const err = relError(got.grads.get(name)!, g);
    assert.ok(err < 1e-2, `${name}: relative error ${err.toExponential(2)} against emulated bf16`);
  }
});

// ---- bf16 activations: a bf16 buffer reads as the f32 values it holds, in every op --------------

/** f32 values rounded to bf16 (round to nearest even; NaN and ±inf kept). */
function toBf16Values(a: Float32Array): Float32Array {
  const out = Float32Array.from(a);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    if (Number.isNaN(out[i])) continue;
    bits[i] = ((bits[i]! + 0x7fff + ((bits[i]! >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
  return out;
}

/**
 * x [n, c, h, w] as a bf16 activation: a depthwise 1×1 convolution with weight 1 and no bias (each
 * channel sees only itself, so NaN and inf stay where they are) in bf16 mode writes it in bf16.
 */
function bf16Activation(values: Float32Array, shape: Shape): Storage {
  const c = shape[1]!;
  const g = convGeometry(shape, [c, 1, 1, 1], [1, 1], [0, 0], c);
  const y = nb.conv2d(nb.fromArray(values, shape), nb.fromArray(new Float32Array(c).fill(1), [c, 1, 1, 1]), null, g, false);
  assert.match(nativeBf16!.layoutOf(y), /^bf16-/, 'the activation is stored in bf16');
  return y;
}

/** Elementwise equality, NaN equal to NaN (and -0 equal to +0). */
function assertSameValues(what: string, got: FloatArray, want: FloatArray): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const ok = Number.isNaN(want[i]) ? Number.isNaN(got[i]) : got[i] === want[i];
    assert.ok(ok, `${what}[${i}]: ${got[i]} != ${want[i]}`);
  }
}

test('bf16 activation buffers: every op equals the same op on the f32 values (NaN and inf flow as in f32)', { skip }, () => {
  const shape: Shape = [2, 16, 6, 6];
  const n = size(shape);
  const values = toBf16Values(randomArray(n, 40, 3));
  values[5] = NaN;
  values[100] = Infinity;
  values[301] = -Infinity;
  values[700] = NaN;
  const x = bf16Activation(values, shape);
  const f = nb.fromArray(values, shape);
  const same = (what: string, a: Storage, b: Storage, s: Shape): void => assertSameValues(what, nb.toArray(a, s), nb.toArray(b, s));
  same('toArray', x, f, shape);
  same('relu', nb.relu(x, shape), nb.relu(f, shape), shape);
  const gy = toBf16Values(randomArray(n, 41));
  same(
    'reluBackward',
    nb.reluBackward(nb.fromArray(gy, shape), nb.relu(x, shape), shape),
    nb.reluBackward(nb.fromArray(gy, shape), nb.relu(f, shape), shape),
    shape,
  );
  for (const [k, st] of [
    [3, 2],
    [2, 2],
  ]) {
    const pg = poolGeometry(shape, [k!, k!], [st!, st!], [0, 0], false);
    const ps: Shape = [pg.n, pg.c, pg.oh, pg.ow];
    const px = nb.maxPool2d(x, pg, true);
    const pf = nb.maxPool2d(f, pg, true);
    same(`maxPool2d ${k}/${st}`, px.y, pf.y, ps);
    if (k === 2) {
      // Windows that do not overlap: the bf16 gradient holds exactly the (bf16) values routed.
      const pgy = toBf16Values(randomArray(size(ps), 42));
      same(
        'maxPool2dBackward',
        nb.maxPool2dBackward(nb.fromArray(pgy, ps), x, px.workspace, pg),
        nb.maxPool2dBackward(nb.fromArray(pgy, ps), f, pf.workspace, pg),
        shape,
      );
    }
  }
  for (const op of ['neg', 'exp', 'abs', 'sign'] as const) same(op, nb.unary(op, x, shape), nb.unary(op, f, shape), shape);
  same('binary add', nb.binary('add', x, f, shape), nb.binary('add', f, f, shape), shape);
  same('scalar mul', nb.scalar('mul', x, 0.5, shape), nb.scalar('mul', f, 0.5, shape), shape);
  same('sum', nb.sum(x, shape, 1), nb.sum(f, shape, 1), [2, 6, 6]);
  // Dropout with p = 0.5 scales by 2 (exact in bf16): the same values, and the same mask bit for bit.
  const dx = nb.dropout(x, shape, 0.5, 77);
  const df = nb.dropout(f, shape, 0.5, 77);
  same('dropout y', dx.y, df.y, shape);
  same('dropout mask', dx.mask, df.mask, shape);
  // A flattened bf16 activation stays bf16 and reads the same; the loss reads its f32 values.
  const flat: Shape = [2, n / 2];
  const xr = nb.reshape(x, shape, flat);
  assert.match(nativeBf16!.layoutOf(xr), /^bf16-/, 'reshape keeps bf16');
  same('reshape', xr, nb.reshape(f, shape, flat), flat);
  const finite = toBf16Values(randomArray(n, 43, 2));
  const lx = nb.softmaxCrossEntropy(nb.reshape(bf16Activation(finite, shape), shape, flat), Int32Array.from([3, 9]), 2, n / 2);
  const lf = nb.softmaxCrossEntropy(nb.fromArray(finite, flat), Int32Array.from([3, 9]), 2, n / 2);
  assert.equal(lx.loss, lf.loss);
  same('softmax', lx.probs, lf.probs, flat);
  // In-place accumulation into a bf16 buffer turns it into f32 (no bf16 bits read as floats).
  const acc = bf16Activation(finite, shape);
  nb.axpyInPlace(acc, f, 1, shape);
  const want = nb.binary('add', nb.fromArray(finite, shape), f, shape);
  same('axpyInPlace', acc, want, shape);
});

test('bf16 training follows PyTorch autocast: the narrow AlexNet-2012 network within 2e-2 of torch.autocast(bfloat16)', { skip }, () => {
  // scripts/make_autocast_fixtures.py: autocast's output, loss and gradients for the golden
  // network's parameters and input. The same comparison against plain f32 PyTorch gives 0.3–0.56 in
  // conv1–conv4 (autocast itself differs from f32 that much there: max-pool ties under bf16).
  type T = { shape: number[]; data: number[] };
  const dir = new URL('./fixtures/', import.meta.url.replace('/dist/test/', '/test/'));
  const golden = JSON.parse(readFileSync(new URL('golden/mini_alexnet.json', dir), 'utf8')) as {
    input: T;
    labels: number[];
    state_dict: Record<string, T>;
  };
  const autocast = JSON.parse(readFileSync(new URL('autocast/mini_alexnet_bf16.json', dir), 'utf8')) as {
    output: T;
    loss: number;
    grads: Record<string, T>;
  };
  const tensor = (t: T): Tensor => Tensor.fromArray(Float32Array.from(t.data), t.shape);
  setBackend(nb);
  try {
    const model = miniAlexNet();
    model.loadStateDict(new Map(Object.entries(golden.state_dict).map(([k, v]) => [k, tensor(v)])));
    const out = model.forward(tensor(golden.input));
    assert.ok(relError(out.toArray(), Float32Array.from(autocast.output.data)) < 2e-2, 'output');
    const loss = crossEntropy(out, golden.labels);
    assert.ok(Math.abs(loss.item() - autocast.loss) < 2e-2 * Math.abs(autocast.loss), `loss ${loss.item()} vs ${autocast.loss}`);
    loss.backward();
    for (const [name, p] of model.namedParameters()) {
      const err = relError(p.grad!.toArray(), Float32Array.from(autocast.grads[name]!.data));
      assert.ok(err < 2e-2, `${name}: relative error ${err.toExponential(2)} against autocast`);
    }
  } finally {
    setBackend('reference');
  }
});

test(
  'bf16 training: SGD writes the bf16 weight copies in the same loop, equal bit for bit to a fresh conversion; steps follow f32 training',
  { skip },
  () => {
    const golden = JSON.parse(
      readFileSync(new URL('./fixtures/golden/mini_alexnet.json', import.meta.url.replace('/dist/test/', '/test/')), 'utf8'),
    ) as { input: { shape: number[]; data: number[] }; labels: number[]; state_dict: Record<string, { shape: number[]; data: number[] }> };
    const tensor = (t: { shape: number[]; data: number[] }): Tensor => Tensor.fromArray(Float32Array.from(t.data), t.shape);
    const losses = (be: Backend, check: boolean): number[] => {
      setBackend(be);
      try {
        const model = miniAlexNet();
        model.loadStateDict(new Map(Object.entries(golden.state_dict).map(([k, v]) => [k, tensor(v)])));
        const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
        const x = tensor(golden.input);
        const out: number[] = [];
        for (let step = 0; step < 3; step++) {
          opt.zeroGrad();
          const loss = crossEntropy(model.forward(x), golden.labels);
          out.push(loss.item());
          loss.backward();
          opt.step();
          if (!check) continue;
          for (const [name, p] of model.namedParameters()) {
            const { checked, differing } = nativeBf16!.bf16CopiesCheck(p.storage);
            // Every weight keeps at least its forward copy valid (biases are read in f32).
            if (name.endsWith('weight')) assert.ok(checked >= 1, `${name}: no bf16 copy kept valid by the SGD step`);
            assert.equal(differing, 0, `${name}: fused bf16 copy differs from a fresh conversion`);
          }
        }
        return out;
      } finally {
        setBackend('reference');
      }
    };
    const bf16 = losses(nb, true);
    const f32 = losses(reference, false);
    for (let i = 0; i < f32.length; i++)
      assert.ok(Math.abs(bf16[i]! - f32[i]!) < 6e-2 * Math.abs(f32[i]!), `step ${i}: loss ${bf16[i]} vs f32 ${f32[i]}`);
    assert.ok(bf16[2]! < bf16[0]!, `bf16 training lowers the loss: ${bf16.join(', ')}`);
  },
);

test("bf16 training: SGD rewrites a linear layer's blocked bf16 copy with long rows (k = 300, n = 70 padded) bit for bit", { skip }, () => {
  setBackend(nb);
  try {
    const layer = new Linear(300, 70);
    const opt = new SGD(layer.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
    const x = Tensor.fromArray(randomArray(8 * 300, 120), [8, 300]);
    const labels = [0, 7, 13, 21, 34, 55, 69, 3];
    let before = 0;
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad();
      const loss = crossEntropy(layer.forward(x), labels);
      if (step === 0) before = loss.item();
      loss.backward();
      opt.step();
      const { checked, differing } = nativeBf16!.bf16CopiesCheck(layer.weight.storage);
      assert.ok(checked >= 1, 'no bf16 copy kept valid by the SGD step');
      assert.equal(differing, 0, 'the rewritten bf16 copy differs from a fresh conversion');
    }
    assert.ok(crossEntropy(layer.forward(x), labels).item() < before, 'the steps lower the loss');
  } finally {
    setBackend('reference');
  }
});
