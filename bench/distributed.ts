// `npm run bench:distributed [-- --quick]`: what distributed training costs on this machine and
// what it would cost on a cluster.
//  1. MPI_Allreduce bandwidth between 2 ranks over loopback (1–100 MB, f32 and bf16), and for
//     100 MB the variants that explain its speed (coll_tuned's algorithms, the single-copy path,
//     yielding instead of polling).
//  2. Measured training steps (AlexNet, native backend, synthetic batch of B images per job):
//     1 rank × 2 threads (plain), 1 rank × 1 thread (B/2: one rank's compute), 2 ranks × 1 thread
//     computing side by side without communication (what sharing the machine costs), and 2 ranks
//     × 1 thread (DDP f32, DDP bf16, hybrid), with the communication wait per step; DDP f32 also
//     with the gradient buckets filled through toArray (before readInto), alternating with the
//     copy-free runs (the machine's noise hits both alike).
//  3. The model below, checked against the 2-rank measurement, then projected for 1–64 ranks at
//     10, 25 and 100 Gb/s, per-rank batch B/2 (weak scaling, as Krizhevsky's 128 per GPU):
//       ring allreduce of S bytes on N ranks: 2(N−1)/N · S / bw + 2(N−1) · α      (α = 50 µs)
//       DDP step     = Tc + max(0, Tallreduce(4P or 2P) − h · Tc)
//                      h = 0.5: the buckets of FC6–FC8 (97% of the bytes) are ready after the
//                      classifier's backward; the convolutions' backward (about half the step)
//                      hides them. The first bucket's own time is never hidden.
//       hybrid step  = Tc + max(0, Tallreduce(4 Pconv) − h · Tc) + Tact
//                      Tact: the classifier's activations (FC6's inputs, FC6's and FC7's
//                      outputs, the logits) all-gathered forward and their gradients
//                      reduce-scattered backward, blocking, so not hidden: each rank receives
//                      2 · (N−1) · b · (F + 4096 + 4096 + 1000) · 4 bytes (F = 9216, FC6's inputs)
//                      in 8 ring collectives, 8 (N−1) α (hybrid_parallel.ts).
//     Tc is the measured step of one rank (1 thread, batch B/2), P the parameters.
// Results: bench/results/distributed.json and the tables printed here (see BENCHMARKS.md).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conv2d } from '../src/nn/conv.js';
import { createModel } from '../src/models/index.js';
import { packageRoot } from '../src/native_addons.js';

const quick = process.argv.includes('--quick');
const root = packageRoot();
const rankScript = join(root, 'dist', 'bench', 'distributed_rank.js');
const env = { ...process.env, OMP_NUM_THREADS: '1' };
const ALPHA_S = 50e-6;
const HIDDEN = 0.5;
const KRIZHEVSKY_2014: Record<number, number> = { 1: 1, 2: 1.95, 4: 3.74, 8: 6.25 };

function mpirun(np: number, args: string[], mca: string[] = []): Record<string, unknown> {
  const r = spawnSync(
    'mpirun',
    ['--oversubscribe', '--allow-run-as-root', '-np', String(np), ...mca, process.execPath, rankScript, ...args],
    {
      cwd: root,
      encoding: 'utf8',
      env,
      timeout: 600_000,
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`mpirun ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return JSON.parse(line) as Record<string, unknown>;
}

interface Row {
  bytes: number;
  dtype: string;
  calls: 'one' | '1 MB';
  seconds: number;
  gbPerS: number;
}

// ---- 1. allreduce bandwidth (one call of the size, and the same bytes in 1 MB calls) ---------------------------------------------------------------------
const bandwidth = mpirun(2, ['--mode', 'allreduce']).rows as Row[];
console.log('## MPI_Allreduce between 2 ranks on loopback (Open MPI defaults)\n');
console.log('| size | f32, one call | f32, 1 MB calls | bf16 (user op), one call | bf16, 1 MB calls |\n| --- | --- | --- | --- | --- |');
for (const mb of [1, 4, 25, 100]) {
  const cell = (d: string, calls: Row['calls']) => {
    const r = bandwidth.find((x) => x.dtype === d && x.calls === calls && x.bytes === mb * 1024 * 1024);
    return r ? `${(r.seconds * 1000).toFixed(1)} ms, ${r.gbPerS.toFixed(2)} GB/s` : '-';
  };
  console.log(`| ${mb} MB | ${cell('f32', 'one')} | ${cell('f32', '1 MB')} | ${cell('bf16', 'one')} | ${cell('bf16', '1 MB')} |`);
}
const variants: [string, string[]][] = quick
  ? []
  : [
      ['default (coll_tuned decides)', []],
      ['ring (algorithm 4)', ['--mca', 'coll_tuned_use_dynamic_rules', '1', '--mca', 'coll_tuned_allreduce_algorithm', '4']],
      ['segmented ring (5)', ['--mca', 'coll_tuned_use_dynamic_rules', '1', '--mca', 'coll_tuned_allreduce_algorithm', '5']],
      ['Rabenseifner (6)', ['--mca', 'coll_tuned_use_dynamic_rules', '1', '--mca', 'coll_tuned_allreduce_algorithm', '6']],
      ['no single copy (vader copy-in/out)', ['--mca', 'btl_vader_single_copy_mechanism', 'none']],
      ['TCP only', ['--mca', 'btl', 'tcp,self']],
      ['yield when idle', ['--mca', 'mpi_yield_when_idle', '1']],
    ];
const investigation: { variant: string; gbPerS: number }[] = [];
if (variants.length) console.log('\n## 100 MB f32 allreduce, 2 ranks: variants\n\n| variant | GB/s |\n| --- | --- |');
for (const [name, mca] of variants) {
  const rows = mpirun(2, ['--mode', 'allreduce'], mca).rows as Row[];
  const r = rows.find((x) => x.dtype === 'f32' && x.calls === 'one' && x.bytes === 100 * 1024 * 1024);
  investigation.push({ variant: name, gbPerS: r?.gbPerS ?? NaN });
  console.log(`| ${name} | ${(r?.gbPerS ?? NaN).toFixed(2)} |`);
}

// ---- 2. measured steps ---------------------------------------------------------------------------
const batch = quick ? 8 : 64;
const input = quick ? '127' : '224';
const steps = quick ? '2' : '4';
const common = ['--arch', 'alexnet', '--input', input, '--steps', steps];
interface StepRun {
  stepS: number;
  imgPerS: number;
  commWaitS: number;
  params: number;
}
const run = (np: number, extra: string[]): StepRun => mpirun(np, [...common, ...extra]) as unknown as StepRun;
const plain2 = run(1, ['--plain', '--threads', '2', '--batch', String(batch)]);
const plain1 = run(1, ['--plain', '--threads', '1', '--batch', String(batch / 2)]);
const sideBySide = run(2, ['--plain', '--threads', '1', '--batch', String(batch / 2)]);
// Before/after the copy-free buckets, alternately: copy, copy-free, copy, copy-free, …; the mean of each.
const pairs = quick ? 1 : 3;
const ddpRuns: StepRun[] = [];
const copyRuns: StepRun[] = [];
for (let i = 0; i < pairs; i++) {
  copyRuns.push(run(2, ['--threads', '1', '--batch', String(batch / 2), '--copy', 'toArray']));
  ddpRuns.push(run(2, ['--threads', '1', '--batch', String(batch / 2)]));
}
const meanRun = (rs: StepRun[]): StepRun => {
  const m = (f: (r: StepRun) => number) => rs.reduce((a, r) => a + f(r), 0) / rs.length;
  return { stepS: m((r) => r.stepS), imgPerS: m((r) => r.imgPerS), commWaitS: m((r) => r.commWaitS), params: rs[0]?.params ?? 0 };
};
const ddp = meanRun(ddpRuns);
const ddpCopy = meanRun(copyRuns);
const ddpBf16 = run(2, ['--threads', '1', '--batch', String(batch / 2), '--grad-dtype', 'bf16']);
const hybrid = run(2, ['--threads', '1', '--batch', String(batch / 2), '--parallel', 'hybrid']);
console.log(`\n## Training steps, AlexNet ${input}×${input}, global batch ${batch}${quick ? ' (quick mode)' : ''}\n`);
console.log('| configuration | step | img/s (job) | comm wait / step | vs 1 rank × 2 threads |\n| --- | --- | --- | --- | --- |');
const line = (name: string, r: StepRun) =>
  console.log(
    `| ${name} | ${r.stepS.toFixed(3)} s | ${r.imgPerS.toFixed(1)} | ${(r.commWaitS * 1000).toFixed(1)} ms (${((100 * r.commWaitS) / r.stepS).toFixed(1)}%) | ${(r.imgPerS / plain2.imgPerS).toFixed(2)}× |`,
  );
line('1 rank × 2 threads (plain)', plain2);
line(`1 rank × 1 thread, batch ${batch / 2} (one rank's compute)`, plain1);
line('2 ranks × 1 thread, no communication (plain steps side by side)', sideBySide);
line(`2 ranks × 1 thread, DDP f32, buckets through toArray (before readInto; mean of ${pairs})`, ddpCopy);
line(`2 ranks × 1 thread, DDP f32 (copy-free buckets; mean of ${pairs})`, ddp);
line('2 ranks × 1 thread, DDP bf16 gradients', ddpBf16);
line('2 ranks × 1 thread, hybrid (FC6–FC8 split by units)', hybrid);
const modes: [string, StepRun][] = [
  ['DDP f32', ddp],
  ['DDP bf16', ddpBf16],
  ['hybrid', hybrid],
];
const [bestName, best] = modes.reduce((a, b) => (b[1].imgPerS > a[1].imgPerS ? b : a));
const ratio = best.imgPerS / plain2.imgPerS;
console.log(
  `\nbest mode: ${bestName}, ${ratio.toFixed(2)}× of 1 rank × 2 threads (goal ≥ 0.90×: ${ratio >= 0.9 ? 'met' : 'missed'}); DDP f32 ${(ddp.imgPerS / plain2.imgPerS).toFixed(2)}×`,
);
console.log(
  `copy-free buckets: DDP f32 step ${ddpCopy.stepS.toFixed(3)} s → ${ddp.stepS.toFixed(3)} s (${((ddpCopy.stepS - ddp.stepS) * 1000).toFixed(0)} ms less)`,
);

// ---- 3. the model ----------------------------------------------------------------------------------
const model = createModel('alexnet', { numClasses: 1000, inputSize: Number(input) });
const P = model.parameterCount();
const Pconv = model
  .stages()
  .filter((m): m is Conv2d => m instanceof Conv2d)
  .reduce((n, m) => n + m.parameters().reduce((k, t) => k + t.size, 0), 0);
const F = 256 * 6 * 6;
const Tc = plain1.stepS;
const b = batch / 2;
const ringS = (n: number, bytes: number, bytesPerS: number) =>
  n === 1 ? 0 : (2 * (n - 1) * bytes) / n / bytesPerS + 2 * (n - 1) * ALPHA_S;
type Mode = 'DDP f32' | 'DDP bf16' | 'hybrid';
function stepTime(mode: Mode, n: number, bytesPerS: number): number {
  const hidden = HIDDEN * Tc;
  if (mode === 'hybrid') {
    const act = n === 1 ? 0 : (2 * (n - 1) * b * (F + 4096 + 4096 + 1000) * 4) / bytesPerS + 8 * (n - 1) * ALPHA_S;
    return Tc + Math.max(0, ringS(n, 4 * Pconv, bytesPerS) - hidden) + act;
  }
  return Tc + Math.max(0, ringS(n, (mode === 'DDP f32' ? 4 : 2) * P, bytesPerS) - hidden);
}
// Check: the model with this machine's measured 100 MB loopback bandwidth against the 2-rank runs.
// The trainer reduces its buckets in 1 MB calls (grad_reducer.ts): the model uses that bandwidth.
const loop = bandwidth.find((x) => x.dtype === 'f32' && x.calls === '1 MB' && x.bytes === 100 * 1024 * 1024)?.gbPerS ?? 1;
const loopBf16 = bandwidth.find((x) => x.dtype === 'bf16' && x.calls === '1 MB' && x.bytes === 100 * 1024 * 1024)?.gbPerS ?? 1;
const check = [
  { mode: 'DDP f32', predicted: stepTime('DDP f32', 2, loop * 1e9), measured: ddp.stepS },
  { mode: 'DDP bf16', predicted: stepTime('DDP bf16', 2, loopBf16 * 1e9), measured: ddpBf16.stepS },
  { mode: 'hybrid', predicted: stepTime('hybrid', 2, loop * 1e9), measured: hybrid.stepS },
];
console.log(
  `\n## Model check at 2 ranks (loopback ${loop.toFixed(2)} GB/s f32, ${loopBf16.toFixed(2)} GB/s bf16; Tc = ${Tc.toFixed(3)} s)\n`,
);
console.log('| mode | predicted step | measured step |\n| --- | --- | --- |');
for (const c of check) console.log(`| ${c.mode} | ${c.predicted.toFixed(3)} s | ${c.measured.toFixed(3)} s |`);

const ranks = [1, 2, 4, 8, 16, 32, 64];
const speeds = [10, 25, 100];
const projection: { mode: Mode; gbit: number; n: number; stepS: number; speedup: number; efficiency: number }[] = [];
console.log(
  `\n## Projected speed-up over 1 rank (per-rank batch ${b}, P = ${(P / 1e6).toFixed(1)} M, conv ${(Pconv / 1e6).toFixed(2)} M)\n`,
);
console.log(`| mode | Gb/s | ${ranks.map((n) => `${n}`).join(' | ')} |\n| --- | --- | ${ranks.map(() => '---').join(' | ')} |`);
for (const mode of ['DDP f32', 'DDP bf16', 'hybrid'] as const) {
  for (const gbit of speeds) {
    const cells = ranks.map((n) => {
      const t = stepTime(mode, n, (gbit * 1e9) / 8);
      const speedup = (n * Tc) / t;
      projection.push({ mode, gbit, n, stepS: t, speedup, efficiency: speedup / n });
      return `${speedup.toFixed(2)}×`;
    });
    console.log(`| ${mode} | ${gbit} | ${cells.join(' | ')} |`);
  }
}
console.log(
  `| Krizhevsky 2014 (hybrid, GPUs) | - | ${ranks.map((n) => (KRIZHEVSKY_2014[n] ? `${KRIZHEVSKY_2014[n]}×` : '')).join(' | ')} |`,
);
/** The slowest network on which `mode` on n ranks keeps 90% efficiency (Gb/s), by bisection. */
function neededGbit(mode: Mode, n: number): number {
  if (n === 1) return 0;
  let lo = 0.01;
  let hi = 10000;
  if ((n * Tc) / stepTime(mode, n, (hi * 1e9) / 8) / n < 0.9) return Infinity;
  for (let i = 0; i < 60; i++) {
    const mid = Math.sqrt(lo * hi);
    if ((n * Tc) / stepTime(mode, n, (mid * 1e9) / 8) / n >= 0.9) hi = mid;
    else lo = mid;
  }
  return hi;
}
console.log(`\n## Network each configuration needs for 90% scaling efficiency (Gb/s)\n`);
console.log(
  `| mode | ${ranks.slice(1).join(' | ')} |\n| --- | ${ranks
    .slice(1)
    .map(() => '---')
    .join(' | ')} |`,
);
const needs: Record<string, number[]> = {};
for (const mode of ['DDP f32', 'DDP bf16', 'hybrid'] as const) {
  needs[mode] = ranks.slice(1).map((n) => neededGbit(mode, n));
  console.log(`| ${mode} | ${(needs[mode] ?? []).map((g) => (Number.isFinite(g) ? g.toFixed(1) : 'never')).join(' | ')} |`);
}

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', 'distributed.json'),
  JSON.stringify(
    {
      quick,
      batch,
      input,
      bandwidth,
      investigation,
      steps: { plain2, plain1, sideBySide, ddp, ddpCopy, ddpRuns, copyRuns, ddpBf16, hybrid },
      best: { mode: bestName, vsOneRankTwoThreads: ratio },
      model: { P, Pconv, Tc, alphaS: ALPHA_S, hidden: HIDDEN },
      check,
      projection,
      needs,
    },
    null,
    1,
  ) + '\n',
);
console.log('\nwritten: bench/results/distributed.json');
