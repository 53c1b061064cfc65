// ONNX export checked in ONNX Runtime against our forward (reference backend). Small networks
// of the AlexNet shape cover every mapping — grouped Conv, LRN, MaxPool with and without ceil
// mode, the adaptive pool as identity / AveragePool / GlobalAveragePool, Flatten, Gemm, Dropout
// removal — at several batch sizes (the batch dimension is dynamic). The three full-size models
// are checked the same way in the parity suite (npm run test:parity).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { referenceBackend, setBackend } from '../src/backend/registry.js';
import { UsageError } from '../src/errors.js';
import { exportOnnx } from '../src/io/onnx/export.js';
import { AlexNet } from '../src/models/alexnet_base.js';
import { ReLU } from '../src/nn/activation.js';
import { Conv2d } from '../src/nn/conv.js';
import { Dropout } from '../src/nn/dropout.js';
import { Linear } from '../src/nn/linear.js';
import { LocalResponseNorm } from '../src/nn/lrn.js';
import type { Module } from '../src/nn/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../src/nn/pool.js';
import { Sequential } from '../src/nn/sequential.js';
import { Generator } from '../src/random.js';
import { noGrad, Tensor } from '../src/tensor.js';

setBackend(referenceBackend());

/** conv(groups 2) → relu → LRN → maxpool(ceil) → conv → relu → maxpool → adaptive pool → flatten → classifier. */
function tinyNet(inputSize: number, poolOut: number, ceilMode: boolean, rng: Generator): AlexNet {
  const features = new Sequential(
    new Conv2d(4, 8, 3, { stride: 2, padding: 1, groups: 2, rng }),
    new ReLU(),
    new LocalResponseNorm(5, 5e-4, 0.75, 2),
    new MaxPool2d(3, 2, 0, ceilMode),
    new Conv2d(8, 6, 3, { padding: 1, rng }),
    new ReLU(),
    new MaxPool2d(2, 2, 1),
  );
  const pool = new AdaptiveAvgPool2d(poolOut);
  const classifier = new Sequential(
    new Dropout(0.5),
    new Linear(6 * poolOut * poolOut, 10, { rng }),
    new ReLU(),
    new Dropout(0.5),
    new Linear(10, 3, { rng }),
  );
  const parts: [string, Module][] = [
    ['features', features],
    ['avgpool', pool],
    ['classifier', classifier],
  ];
  return new AlexNet('alexnet', parts, 2, [4, inputSize, inputSize], 3);
}

async function compare(net: AlexNet, batch: number, rng: Generator): Promise<number> {
  net.eval();
  const [c, h, w] = net.inputShape;
  const x = Tensor.randn([batch, c, h, w], { rng });
  const ours = noGrad(() => net.forward(x)).toArray();
  const session = await ort.InferenceSession.create(Buffer.concat(exportOnnx(net)));
  const res = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.toArray()), [batch, c, h, w]) });
  const out = res.output!;
  assert.deepEqual(out.dims, [batch, 3]);
  const theirs = out.data as Float32Array;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ours.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    maxRef = Math.max(maxRef, Math.abs(theirs[i]!));
  }
  return maxDiff / maxRef;
}

const cases: { label: string; inputSize: number; poolOut: number; ceil: boolean }[] = [
  // features: 20 → conv 10 → pool 3/2 (ceil: 5, floor would give 4) → pool 2/2 pad 1: 3; adaptive 3 is the identity
  { label: 'identity adaptive pool, ceil-mode max pool', inputSize: 20, poolOut: 3, ceil: true },
  // 31 → 16 → 7 → 4: adaptive 2 is AveragePool 2×2
  { label: 'adaptive pool as AveragePool', inputSize: 31, poolOut: 2, ceil: false },
  // adaptive 1 is GlobalAveragePool
  { label: 'adaptive pool as GlobalAveragePool', inputSize: 31, poolOut: 1, ceil: false },
];

for (const c of cases) {
  test(`ONNX Runtime matches our forward: ${c.label}`, async () => {
    const rng = new Generator(7);
    const net = tinyNet(c.inputSize, c.poolOut, c.ceil, rng);
    if (c.ceil) {
      // The ceil-mode pool really takes the extra window here (5 outputs instead of 4).
      const pool = net.stages().find((m): m is MaxPool2d => m instanceof MaxPool2d)!;
      assert.deepEqual(pool.outputShape([1, 8, 10, 10]), [1, 8, 5, 5]);
    }
    for (const batch of [1, 3]) {
      const rel = await compare(net, batch, rng);
      assert.ok(rel < 1e-5, `batch ${batch}: max |diff| / max |ref| = ${rel}`);
    }
  });
}

test('uneven adaptive pooling is refused with a clear message', () => {
  // 31 → 16 → 7 → 4 features; 4 → 3 has uneven windows
  const net = tinyNet(31, 3, false, new Generator(1));
  assert.throws(
    () => exportOnnx(net),
    (e: Error) => e instanceof UsageError && /AdaptiveAvgPool2d from 4×4 to 3×3 has uneven windows/.test(e.message),
  );
});
