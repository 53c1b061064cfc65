// The d2l preset's training speed against PyTorch on the same machine, in one run: images/s of
// one training step (forward, cross-entropy, backward, plain SGD) of the textbook's Fashion-MNIST
// model (alexnet-v1 layers, 1×224×224, 10 classes) at batch 128, f32 and bf16 (PyTorch: autocast),
// same threads, each framework in its own process; median of the timed steps after warm-up.
//
//   npm run build && node dist/bench/d2l.js [--threads 2] [--iters 5] [--warmup 2] [--batch 128]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const threads = arg('threads', availableParallelism());
const iters = arg('iters', 5);
const warmup = arg('warmup', 2);
const batch = arg('batch', 128);

interface Row {
  img_per_s: number;
  ms_per_iter: number;
}

function run(cmd: string, args: string[]): Row | string {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' }, maxBuffer: 1 << 24 });
  if (r.status !== 0) return (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed';
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Row;
}

console.log(`d2l model training step, batch ${batch}, ${threads} threads, median of ${iters} after ${warmup} warm-up`);
for (const precision of ['f32', 'bf16'] as const) {
  const ours = run(process.execPath, [
    'bin/alexnet.js',
    'bench',
    '--preset',
    'd2l',
    '--mode',
    'train',
    '--batch',
    String(batch),
    '--precision',
    precision,
    '--threads',
    String(threads),
    '--iters',
    String(iters),
    '--warmup',
    String(warmup),
    '--json',
  ]);
  const torch = run('/usr/bin/python3', [
    'bench/torch_bench.py',
    'd2l',
    String(batch),
    'train',
    precision,
    String(threads),
    String(warmup),
    String(iters),
  ]);
  const show = (r: Row | string): string =>
    typeof r === 'string' ? `error: ${r.slice(0, 80)}` : `${r.img_per_s.toFixed(1)} img/s (${r.ms_per_iter.toFixed(0)} ms)`;
  const ratio = typeof ours !== 'string' && typeof torch !== 'string' ? `${(ours.img_per_s / torch.img_per_s).toFixed(2)}×` : 'n/a';
  console.log(
    `  ${precision.padEnd(5)} ours ${show(ours).padEnd(28)} PyTorch${precision === 'bf16' ? ' (autocast)' : ''} ${show(torch).padEnd(28)} ratio ${ratio}`,
  );
}
