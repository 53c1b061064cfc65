// Training-loss curve for the bf16-vs-f32 check of bench/compare.ts: `steps` SGD steps (lr 0.01,
// momentum 0.9, weight decay 5e-4) of a freshly seeded model on a fixed cycle of 4 seeded batches,
// in one precision. Run once per precision in separate processes so both start from the same
// generator state (initial weights, data, dropout masks). Prints one JSON object {losses}.
//   node dist/bench/loss_curve.js ARCH BATCH STEPS PRECISION THREADS
import { benchBackend } from '../src/bench/model_bench.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { crossEntropy } from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { Tensor, tidy } from '../src/tensor.js';

const [arch, batchS, stepsS, precision, threadsS] = process.argv.slice(2);
const batch = Number(batchS);
benchBackend({ precision: precision === 'bf16' ? 'bf16' : 'f32', threads: Number(threadsS) });
const rng = new Generator(5);
const model = createModel(arch as ArchName, { rng, numClasses: 10 });
const [c, h, w] = model.inputShape;
const batches = Array.from({ length: 4 }, () => ({
  x: Tensor.uniform([batch, c, h, w], -1, 1, { rng }),
  y: Int32Array.from({ length: batch }, () => rng.int(10)),
}));
const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
const losses: number[] = [];
model.train();
for (let s = 0; s < Number(stepsS); s++) {
  const { x, y } = batches[s % batches.length]!; // s % length is an index of batches
  opt.zeroGrad();
  losses.push(
    tidy(() => {
      const loss = crossEntropy(model.forward(x), y);
      loss.backward();
      return loss.item();
    }),
  );
  opt.step();
}
process.stdout.write(`${JSON.stringify({ arch, precision, losses })}\n`);
