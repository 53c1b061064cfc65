// f32 batch-1 latency, layer by layer: our native backend (each stage of the model timed as the
// model runs it, conv/linear + ReLU fused) against ONNX Runtime's own profiler (per-node kernel
// times of the same exported model, all graph optimisations, threads pinned to ours). Each peer
// runs in its own process, and the peers take turns in ONE run, so that on a shared machine every
// peer meets the same load. A turn is a pause of `--gap` ms (default 50: ONNX Runtime's idle
// threads spin ~35 ms of a core after a run, which would take a core from the peer after it), then
// `--warm` untimed forwards (default 3: on this VM a forward right after an idle pause ran at half
// speed, BENCHMARKS.md) and `--turn` timed ones (default 5): steady-state latency, a loop of
// forwards as a latency benchmark runs them. Ours times each of its forwards whole and again stage
// by stage, each on a new input tensor (made outside the timing), so that its conversion to the
// first convolution's layout is paid every time, as for a user's image (ONNX Runtime reorders its
// input in every run too). Peers: ours on `threads` and on 1 thread (a layer no faster on both
// cores does not use the
// second), ORT, and ours with the classifier's weights in bf16 / int8 (`--classifier`), whose
// logits are compared with ours in f32 on the same seeded weights and input, and ours with
// OpenMP's idle threads waiting otherwise than the library's default (`--wait`: passive, or a
// spin count). Each layer's time
// is set against the relevant machine limit: a convolution's flops against the f32 peak, a linear
// layer's weight bytes against the read bandwidth (at batch 1 it reads each weight once). Then
// how each layer's CPU time splits among our OpenMP threads (per-thread CPU ticks, which a loaded
// machine does not distort the way it does wall times). `--verbose` adds oneDNN's per-primitive
// log of our last forward (ONEDNN_VERBOSE=1).
//   npm run build && node dist/bench/batch1_profile.js [--arch alexnet] [--threads 2] [--iters 50]
//     [--classifier bf16,int8 | none] [--wait passive,100000 | none] [--gap 50] [--warm 3] [--turn 5]
//     [--quick] [--verbose]
import * as ortNode from 'onnxruntime-node';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CLASSIFIER_PRECISIONS, type ClassifierPrecision } from '../src/backend/backend.js';
import { setBackend } from '../src/backend/registry.js';
import { median } from '../src/bench/model_bench.js';
import { writeOnnx } from '../src/io/onnx/export.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { ReLU } from '../src/nn/activation.js';
import { Conv2d } from '../src/nn/conv.js';
import { Dropout } from '../src/nn/dropout.js';
import { Linear } from '../src/nn/linear.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../src/nn/pool.js';
import { flatten } from '../src/ops/shape.js';
import { Generator } from '../src/random.js';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { measureLimits, peakOf } from './limits/limits.js';
import { modelCost } from './model_cost.js';

const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), '../..');
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const arch = (arg('arch') ?? 'alexnet') as ArchName;
const threads = Number(arg('threads') ?? availableParallelism());
const iters = Number(arg('iters') ?? (quick ? 3 : 50));
const warmup = quick ? 1 : 5;
const gapMs = Number(arg('gap') ?? 50);
const warmPerTurn = Number(arg('warm') ?? 3);
const timedPerTurn = Number(arg('turn') ?? 5);
const classifiers = (arg('classifier') ?? 'bf16,int8')
  .split(',')
  .filter((c) => c !== 'none' && c !== '')
  .map((c) => {
    if (!(CLASSIFIER_PRECISIONS as readonly string[]).includes(c) || c === 'f32')
      throw new Error(`--classifier takes bf16, int8 (comma-separated) or none, got '${c}'`);
    return c as ClassifierPrecision;
  });
/**
 * Wait settings for extra peers of ours: `passive` (idle OpenMP threads sleep at once, so every
 * parallel region wakes its workers through the kernel) or a GOMP_SPINCOUNT (they busy-wait that
 * many pauses first; the library's default is a short spin, src/backend/native/addon.ts).
 */
const waits = (arg('wait') ?? 'passive')
  .split(',')
  .filter((c) => c !== 'none' && c !== '')
  .map((c) => {
    if (c !== 'passive' && !/^[0-9]+$/.test(c))
      throw new Error(`--wait takes passive or spin counts (comma-separated) or none, got '${c}'`);
    return c;
  });
const waitPeer = (w: string): { name: string; env: Record<string, string> } =>
  w === 'passive'
    ? { name: 'ours, OMP_WAIT_POLICY=passive', env: { OMP_WAIT_POLICY: 'passive' } }
    : { name: `ours, GOMP_SPINCOUNT=${w}`, env: { GOMP_SPINCOUNT: w } };

/** One timed layer: a label shared by both frameworks (conv1, pool1, fc6, ...) and its median ms. */
interface LayerTime {
  label: string;
  what: string;
  ms: number;
  /** The fastest run: on a shared machine the least disturbed one. */
  minMs: number;
}
interface Profile {
  layers: LayerTime[];
  totalMs: number;
  totalMinMs: number;
  /** Ours: the logits of the seeded input (the classifier precisions are compared with f32's). */
  logits?: number[];
}

/** A peer's process: it runs one step per `run` (timed) or `warm` line on stdin and answers `ok`; `done` ends it with its Profile. */
interface Peer {
  name: string;
  /** One step, timed or not (a warm-up step). */
  run(timed: boolean): Promise<void>;
  finish(): Promise<Profile>;
}

/** Numbers the nth occurrence of each kind: conv1, conv2, pool1, fc6 (AlexNet's FC layers start at 6). */
function labeller(): (kind: string) => string {
  const seen = new Map<string, number>();
  return (kind) => {
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    return kind === 'fc' ? `fc${5 + n}` : kind === 'flatten' ? 'flatten' : `${kind}${n}`;
  };
}

/**
 * Ours: a timed step is a whole forward (timed as one), then a forward with each stage timed
 * separately; an untimed one is a whole forward. Each forward gets a new input tensor.
 */
function oursStepper(classifierPrecision: ClassifierPrecision): { step(timed: boolean): void; profile(): Profile } {
  setBackend('native', { precision: 'f32', threads, classifierPrecision });
  const model = createModel(arch, { rng: new Generator(1) });
  model.eval();
  const input = Tensor.uniform([1, ...model.inputShape], -1, 1, { rng: new Generator(2) }).toArray();
  const stages = model.stages();
  const label = labeller();
  const names = stages.map((s, i) => {
    if (s === 'flatten') return label('flatten');
    if (s instanceof Conv2d) return label('conv');
    if (s instanceof Linear) return label('fc');
    if (s instanceof MaxPool2d) return label('pool');
    if (s instanceof AdaptiveAvgPool2d) return label('avgpool');
    if (s instanceof Dropout) return label('dropout');
    if (s instanceof ReLU) return stages[i - 1] instanceof Conv2d || stages[i - 1] instanceof Linear ? '' : label('relu');
    return label(s.typeName.toLowerCase());
  });
  const times: number[][] = stages.map(() => []);
  const totals: number[] = [];
  const fresh = (): Tensor => Tensor.fromArray(input, [1, ...model.inputShape]);
  const step = (timed: boolean): void =>
    noGrad(() =>
      tidy(() => {
        let x = fresh();
        const t0 = performance.now();
        tidy(() => void model.forward(x));
        if (!timed) return;
        totals.push(performance.now() - t0);
        let h = (x = fresh());
        stages.forEach((s, i) => {
          if (names[i] === '') return; // a ReLU fused into the layer before it, as Sequential runs it
          const t1 = performance.now();
          if (s === 'flatten') h = flatten(h, 1);
          else if ((s instanceof Conv2d || s instanceof Linear) && stages[i + 1] instanceof ReLU) h = s.forwardFused(h, true);
          else h = s.forward(h);
          times[i]!.push(performance.now() - t1);
        });
      }),
    );
  const profile = (): Profile => {
    const layers = stages.flatMap((s, i) =>
      names[i]
        ? [{ label: names[i]!, what: s === 'flatten' ? 'flatten' : s.typeName, ms: median(times[i]!), minMs: Math.min(...times[i]!) }]
        : [],
    );
    const logits = Array.from(noGrad(() => tidy(() => model.forward(fresh()).toArray())));
    return { layers, totalMs: median(totals), totalMinMs: Math.min(...totals), logits };
  };
  return { step, profile };
}

/**
 * How our layers share the CPU among the OpenMP threads: each stage run `reps` times in a row on
 * its own input, and every thread's CPU time (/proc/self/task/T/stat, utime + stime) read before
 * and after. Unlike wall times this does not depend on what else the machine runs: a layer that
 * uses both cores shows its CPU time split between the main thread and the OpenMP worker.
 */
function threadSplit(reps: number): Record<string, number[]> {
  setBackend('native', { precision: 'f32', threads });
  const model = createModel(arch, { rng: new Generator(1) });
  model.eval();
  const ticks = (): Map<string, number> =>
    new Map(
      readdirSync('/proc/self/task').map((t) => {
        const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [t, Number(f[11]) + Number(f[12])];
      }),
    );
  const out: Record<string, number[]> = {};
  const label = labeller();
  noGrad(() =>
    tidy(() => {
      let h = Tensor.uniform([1, ...model.inputShape], -1, 1, { rng: new Generator(2) });
      for (const s of model.stages()) {
        if (s === 'flatten') {
          h = flatten(h, 1);
          continue;
        }
        if (s instanceof Conv2d || s instanceof Linear) {
          const name = label(s instanceof Conv2d ? 'conv' : 'fc');
          const before = ticks();
          for (let i = 0; i < reps; i++) tidy(() => void s.forwardFused(h, true).toArray().length);
          const after = ticks();
          out[name] = [...after.entries()]
            .map(([t, v]) => v - (before.get(t) ?? 0))
            .filter((d) => d > 0)
            .sort((a, b) => b - a);
        }
        h = s.forward(h);
      }
    }),
  );
  return out;
}

interface OrtEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; provider?: string };
}

/** ONNX Runtime: its profiler's per-node kernel times (median over the timed runs) and whole runs. */
async function ortStepper(file: string, dir: string): Promise<{ step(timed: boolean): Promise<void>; profile(): Promise<Profile> }> {
  const session = await ortNode.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableProfiling: true,
    profileFilePrefix: path.join(dir, 'ort'),
  });
  const size = arch === 'alexnet' ? 224 : 227;
  const data = Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i * 0.001));
  const feeds = { [session.inputNames[0]!]: new ortNode.Tensor('float32', data, [1, 3, size, size]) };
  const timedRuns: boolean[] = [];
  const step = async (timed: boolean): Promise<void> => {
    timedRuns.push(timed);
    await session.run(feeds);
  };
  const profile = async (): Promise<Profile> => {
    session.endProfiling();
    await session.release();
    return readOrtProfile(dir, timedRuns);
  };
  return { step, profile };
}

/** ORT's profile of the runs flagged timed (its runs in order; a node event belongs to the run it starts in). */
function readOrtProfile(dir: string, timedRuns: boolean[]): Profile {
  const log = readdirSync(dir).find((f) => f.startsWith('ort') && f.endsWith('.json'));
  if (!log) throw new Error(`ONNX Runtime wrote no profile in ${dir}`);
  const events = JSON.parse(readFileSync(path.join(dir, log), 'utf8')) as OrtEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  if (runs.length !== timedRuns.length) throw new Error(`ONNX Runtime profiled ${runs.length} runs, expected ${timedRuns.length}`);
  const timedAt = (ts: number): boolean => {
    let r = -1;
    while (r + 1 < runs.length && runs[r + 1]!.ts <= ts) r++;
    return r >= 0 && timedRuns[r]!;
  };
  const byNode = new Map<string, { op: string; us: number[] }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !timedAt(e.ts)) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const entry = byNode.get(node) ?? { op: e.args?.op_name ?? '?', us: [] };
    entry.us.push(e.dur);
    byNode.set(node, entry);
  }
  const runMs = runs.filter((_, i) => timedRuns[i]).map((e) => e.dur / 1000);
  const label = labeller();
  const kind = (op: string): string =>
    /Conv/.test(op)
      ? 'conv'
      : /Gemm|MatMul/.test(op)
        ? 'fc'
        : /MaxPool/.test(op)
          ? 'pool'
          : /Flatten|Reshape/.test(op)
            ? 'flatten'
            : op.toLowerCase();
  const layers = [...byNode.entries()].map(([node, { op, us }]) => ({
    label: label(kind(op)),
    what: `${op} (${node})`,
    ms: median(us) / 1000,
    minMs: Math.min(...us) / 1000,
  }));
  return { layers, totalMs: median(runMs), totalMinMs: Math.min(...runMs) };
}

/** oneDNN's log of our last forward: one line per primitive (kind, kernel, shapes, ms). */
function oneDnnLog(): string[] {
  const r = spawnSync(process.execPath, [self, '--child', 'ours', '--arch', arch, '--threads', String(threads), '--iters', '2'], {
    cwd: root,
    encoding: 'utf8',
    input: 'warm\n'.repeat(warmup) + 'run\n' + 'done\n',
    env: { ...process.env, ONEDNN_VERBOSE: '1' },
    maxBuffer: 1 << 26,
  });
  const exec = r.stdout.split('\n').filter((l) => /^(onednn|dnnl)_verbose,exec,/.test(l));
  // The last forward starts at the last execution of the first convolution (the same problem string).
  const problem = (l: string): string => l.split(',').at(-2) ?? '';
  const first = exec.find((l) => l.split(',')[3] === 'convolution');
  const start = first ? exec.map(problem).lastIndexOf(problem(first)) : 0;
  return exec.slice(start).map((l) => {
    const f = l.split(',');
    return `${f[3]} ${f[4]} ${f[5]} ${f[6]} ${f.at(-2)} ${f.at(-1)} ms`;
  });
}

/** A child peer: `ours`, `ours-bf16`, `ours-int8` or `ort`; one forward per `run` line, its Profile after `done`. */
async function child(which: string): Promise<void> {
  if (which === 'split') {
    process.stdout.write(`${JSON.stringify(threadSplit(Number(arg('reps') ?? 200)))}\n`);
    return;
  }
  let stepper: { step(timed: boolean): void | Promise<void>; profile(): Profile | Promise<Profile> };
  let dir = '';
  if (which === 'ort') {
    dir = mkdtempSync(path.join(tmpdir(), 'alexnet-ortprof-'));
    stepper = await ortStepper(arg('onnx')!, dir);
  } else {
    const low = which.split('-')[1] as ClassifierPrecision | undefined;
    stepper = oursStepper(low ?? 'f32');
  }
  process.stdout.write('ready\n');
  try {
    for await (const line of createInterface({ input: process.stdin })) {
      if (line === 'run' || line === 'warm') {
        await stepper.step(line === 'run');
        process.stdout.write('ok\n');
      } else if (line === 'done') {
        process.stdout.write(`${JSON.stringify(await stepper.profile())}\n`);
        break;
      }
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts a peer process and waits until it is ready (its model built, its session created). */
async function startPeer(
  name: string,
  which: string,
  extra: string[] = [],
  childThreads = threads,
  env: Record<string, string> = {},
): Promise<Peer> {
  const proc: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      self,
      '--child',
      which,
      '--arch',
      arch,
      '--threads',
      String(childThreads),
      '--iters',
      String(iters),
      ...(quick ? ['--quick'] : []),
      ...extra,
    ],
    { cwd: root, env: { ...process.env, ...env } },
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`${name} peer exited: ${stderr.trim() || `exit ${proc.exitCode}`}`);
    return r.value;
  };
  const expect = async (want: string): Promise<void> => {
    const got = await next();
    if (got !== want) throw new Error(`${name} peer said '${got.slice(0, 200)}', expected '${want}'`);
  };
  await expect('ready');
  return {
    name,
    run: async (timed) => {
      proc.stdin.write(timed ? 'run\n' : 'warm\n');
      await expect('ok');
    },
    finish: async () => {
      proc.stdin.write('done\n');
      const line = await next();
      proc.stdin.end();
      return JSON.parse(line) as Profile;
    },
  };
}

/** Largest |a − b| over max|b|, and whether both pick the same class. */
function agreement(a: number[], b: number[]): string {
  let diff = 0;
  let max = 0;
  a.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b[i]!));
    max = Math.max(max, Math.abs(b[i]!));
  });
  const top = (v: number[]): number => v.indexOf(Math.max(...v));
  return `max|Δlogit| / max|logit| ${(diff / max).toExponential(1)}, top-1 ${top(a) === top(b) ? 'same' : 'differs'}`;
}

async function main(): Promise<void> {
  const role = arg('child');
  if (role) {
    await child(role);
    return;
  }
  const limits = measureLimits(threads, quick);
  const peak = peakOf(limits, 'f32')!;
  const dir = mkdtempSync(path.join(tmpdir(), 'alexnet-b1-'));
  try {
    setBackend('reference');
    const model = createModel(arch);
    const cost = modelCost(model);
    const onnx = path.join(dir, `${arch}.onnx`);
    writeOnnx(onnx, model);
    // One process per peer, started one after the other (model building stays out of the timing),
    // then turns: every peer `warmup` untimed steps, then rounds of a pause, warm-up steps and timed
    // steps, peer after peer, until each has `iters` timed steps.
    const peers: Peer[] = [await startPeer('ours', 'ours')];
    if (threads > 1) peers.push(await startPeer('ours on 1 thread', 'ours', [], 1));
    peers.push(await startPeer('ONNX Runtime', 'ort', ['--onnx', onnx]));
    for (const c of classifiers) peers.push(await startPeer(`ours, classifier ${c}`, `ours-${c}`));
    for (const w of waits.map(waitPeer)) peers.push(await startPeer(w.name, 'ours', [], threads, w.env));
    const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, gapMs));
    for (const p of peers) for (let i = 0; i < warmup; i++) await p.run(false);
    for (let done = 0; done < iters; done += timedPerTurn)
      for (const p of peers) {
        await pause();
        for (let i = 0; i < warmPerTurn; i++) await p.run(false);
        for (let i = 0; i < Math.min(timedPerTurn, iters - done); i++) await p.run(true);
      }
    const profiles = new Map<string, Profile>();
    for (const p of peers) profiles.set(p.name, await p.finish());
    const mine = profiles.get('ours')!;
    const single = profiles.get('ours on 1 thread') ?? null;
    const theirs = profiles.get('ONNX Runtime')!;
    const share = (label: string, ms: number): string => {
      const l = cost.layers.find((c) => c.name === label);
      if (!l || !(ms > 0)) return '';
      return l.kind === 'conv'
        ? `${((100 * l.flops) / (ms * 1e6) / peak).toFixed(0)}% of f32 peak`
        : `${((100 * l.weightBytes) / (ms * 1e6) / limits.read_gbps).toFixed(0)}% of bandwidth`;
    };
    console.log(
      `${arch}, f32, batch 1, ${threads} threads, median of ${iters} after ${warmup} warm-up, the peers taking turns (a ${gapMs} ms pause, ${warmPerTurn} untimed and ${timedPerTurn} timed forwards); ` +
        `f32 peak ${peak.toFixed(0)} GFLOP/s, read bandwidth ${limits.read_gbps.toFixed(1)} GB/s` +
        (quick ? ' (quick run)' : ''),
    );
    console.log('');
    console.log("Each time: median (fastest) ms; the share of the limit is the median's.");
    console.log('');
    console.log('| layer | ours ms | ours of limit | ours on 1 thread | ONNX Runtime node | ORT ms | ORT of limit |');
    console.log('| --- | ---: | --- | ---: | --- | ---: | --- |');
    const t = (l: { ms: number; minMs: number } | undefined): string => (l ? `${l.ms.toFixed(2)} (${l.minMs.toFixed(2)})` : '—');
    const labels = [...new Set([...mine.layers.map((l) => l.label), ...theirs.layers.map((l) => l.label)])];
    for (const label of labels) {
      const a = mine.layers.find((l) => l.label === label);
      const b = theirs.layers.find((l) => l.label === label);
      const one = single?.layers.find((l) => l.label === label);
      console.log(
        `| ${label} | ${t(a)} | ${a ? share(label, a.ms) : ''} | ${t(one)} | ${b?.what ?? '—'} | ${t(b)} | ${b ? share(label, b.ms) : ''} |`,
      );
    }
    const sum = (p: Profile) => ({ ms: p.layers.reduce((s, l) => s + l.ms, 0), minMs: p.layers.reduce((s, l) => s + l.minMs, 0) });
    const whole = (p: Profile | null): string => (p ? t({ ms: p.totalMs, minMs: p.totalMinMs }) : '—');
    console.log(`| sum of layers | ${t(sum(mine))} | | ${single ? t(sum(single)) : '—'} | | ${t(sum(theirs))} | |`);
    console.log(`| whole forward | ${whole(mine)} | | ${whole(single)} | | ${whole(theirs)} | |`);
    if (classifiers.length) {
      console.log('');
      console.log(
        "The classifier's weights in low precision (convolutions f32; logits against ours in f32 on the same seeded random weights and input):",
      );
      console.log('');
      console.log('| peer | fc6 ms | fc7 ms | fc8 ms | whole forward ms | of ORT f32 (medians) | logits against f32 |');
      console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
      for (const name of ['ours', ...classifiers.map((c) => `ours, classifier ${c}`)]) {
        const p = profiles.get(name)!;
        const fc = (l: string): string => t(p.layers.find((x) => x.label === l));
        const ratio = (p.totalMs / theirs.totalMs).toFixed(2);
        const logits = name === 'ours' ? '—' : agreement(p.logits!, mine.logits!);
        console.log(`| ${name} | ${fc('fc6')} | ${fc('fc7')} | ${fc('fc8')} | ${whole(p)} | ${ratio}× | ${logits} |`);
      }
    }
    if (waits.length) {
      console.log('');
      console.log("Ours (f32) with OpenMP's idle threads waiting otherwise (per layer: median (fastest) ms):");
      console.log('');
      const names = ['ours', ...waits.map((w) => waitPeer(w).name)];
      const shown = mine.layers.filter((l) => /^(conv|fc|pool)/.test(l.label)).map((l) => l.label);
      console.log(`| peer | ${shown.join(' | ')} | whole forward | of ORT f32 (medians) |`);
      console.log(`| --- | ${shown.map(() => '---:').join(' | ')} | ---: | ---: |`);
      for (const name of names) {
        const p = profiles.get(name)!;
        const cells = shown.map((l) => t(p.layers.find((x) => x.label === l)));
        console.log(`| ${name} | ${cells.join(' | ')} | ${whole(p)} | ${(p.totalMs / theirs.totalMs).toFixed(2)}× |`);
      }
    }
    if (threads > 1 && process.platform === 'linux') {
      const reps = quick ? 50 : 300;
      const r = spawnSync(
        process.execPath,
        [self, '--child', 'split', '--arch', arch, '--threads', String(threads), '--reps', String(reps)],
        {
          cwd: root,
          encoding: 'utf8',
        },
      );
      const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
      if (r.status !== 0 || !line) throw new Error(`thread split failed: ${(r.stderr || `exit ${r.status}`).trim()}`);
      const split = JSON.parse(line) as Record<string, number[]>;
      console.log('');
      console.log(
        `CPU time per thread, each layer run ${reps} times alone (clock ticks, busiest first; a layer on both cores splits it about evenly, whatever the load):`,
      );
      console.log('');
      for (const [layer, perThread] of Object.entries(split)) {
        const total = perThread.reduce((a, b) => a + b, 0);
        console.log(
          `- ${layer}: ${perThread.join(' + ')} ticks (${perThread.map((v) => `${((100 * v) / total).toFixed(0)}%`).join(' / ')})`,
        );
      }
    }
    if (process.argv.includes('--verbose')) {
      console.log(
        "\noneDNN primitives of our last forward (ONEDNN_VERBOSE=1: kind, kernel, propagation, source, problem, ms; the linear layers' sgemm calls are not logged):",
      );
      for (const l of oneDnnLog()) console.log(`  ${l}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`batch1_profile: ${(e as Error).message}`);
  process.exit(1);
});
