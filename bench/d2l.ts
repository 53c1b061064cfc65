// The d2l preset's training speed against PyTorch on the same machine, in one run: images/s of
// one training step (forward, cross-entropy, backward, plain SGD) of the textbook's Fashion-MNIST
// model (alexnet-v1 layers, 1×224×224, 10 classes) at batch 128, f32 and bf16, same threads, each
// framework in its own process; median of the timed steps after warm-up. PyTorch runs on OpenBLAS
// (checked) in its fast training modes (eager, channels_last; bf16 under autocast) and reports its
// best; each row says what fraction of the machine's f32 or bf16 peak (bench/limits/) it reaches.
//
//   npm run build && node dist/bench/d2l.js [--threads 2] [--iters 5] [--warmup 2] [--batch 128] [--quick]
import { availableParallelism } from 'node:os';
import { setBackend } from '../src/backend/registry.js';
import { measureLimits, peakOf } from './limits/limits.js';
import { benchModel, modelCost } from './model_cost.js';
import { blasLine, ours, torch, torchBlas, type Row, type RunSpec } from './peers.js';

const quick = process.argv.includes('--quick');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const threads = arg('threads', availableParallelism());
const iters = arg('iters', quick ? 1 : 5);
const warmup = arg('warmup', quick ? 1 : 2);
const batch = arg('batch', quick ? 4 : 128);

console.log(blasLine(torchBlas()));
const limits = measureLimits(threads, quick);
setBackend('reference');
const flopsPerImage = modelCost(benchModel('d2l')).trainFlops;
console.log(
  `d2l model training step (${(flopsPerImage / 1e9).toFixed(2)} GFLOP/img), batch ${batch}, ${threads} threads, median of ${iters} after ${warmup} warm-up`,
);
for (const precision of ['f32', 'bf16'] as const) {
  const s: RunSpec = { model: 'd2l', batch, mode: 'train', precision, threads, warmup, iters };
  const mine = ours(s);
  const theirs = torch(s);
  const peak = peakOf(limits, precision);
  const show = (r: Row): string => {
    if ('error' in r) return `error: ${r.error.slice(0, 80)}`;
    const share = peak ? `, ${((100 * r.img_per_s * flopsPerImage) / 1e9 / peak).toFixed(0)}% of peak` : '';
    return `${r.img_per_s.toFixed(1)} img/s (${r.ms_per_iter.toFixed(0)} ms${share})${r.torch_mode ? ` ${r.torch_mode}` : ''}`;
  };
  const ratio = 'error' in mine || 'error' in theirs ? 'n/a' : `${(mine.img_per_s / theirs.img_per_s).toFixed(2)}×`;
  console.log(
    `  ${precision.padEnd(5)} ours ${show(mine).padEnd(44)} PyTorch best${precision === 'bf16' ? ' autocast' : ''} mode ${show(theirs).padEnd(52)} ratio ${ratio}` +
      ` (${precision} peak ${peak?.toFixed(0) ?? '?'} GFLOP/s)`,
  );
  if (!('error' in theirs) && theirs.modes)
    console.log(
      `        PyTorch's modes: ${Object.entries(theirs.modes)
        .map(([m, t]) => `${m} ${'error' in t ? `fails (${t.error.slice(0, 60)})` : `${t.ms_per_iter.toFixed(0)} ms`}`)
        .join(', ')}`,
    );
}
