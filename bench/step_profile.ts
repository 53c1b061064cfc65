// Per-layer profile of one real training step on the native backend (bf16 by default): every
// backend call of forward, loss, backward and the SGD step is timed where the network makes it
// (activations in the types and layouts the previous layer left them, weights as SGD left them),
// grouped by layer and pass, with GFLOP/s and the fraction of the machine's arithmetic peak
// (bench/limits) for convolutions and linear layers. The native backend runs each call at once,
// so a call's time is its work; the step total is measured around the whole step.
//   node dist/bench/step_profile.js [--arch alexnet] [--batch 64] [--iters 3] [--precision bf16]
//                                   [--peak GFLOPS] [--quick]
import type { Backend, ConvGeometry, LinearGeometry, Precision, PoolGeometry } from '../src/backend/backend.js';
import { loadedAddon } from '../src/backend/native/addon.js';
import { setBackend } from '../src/backend/registry.js';
import { median, trainStep } from '../src/bench/model_bench.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { Tensor } from '../src/tensor.js';
import { measureLimits, peakOf } from './limits/limits.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

const quick = process.argv.includes('--quick');
const arch = arg('arch', 'alexnet') as ArchName;
const batch = Number(arg('batch', quick ? '8' : '64'));
const iters = Number(arg('iters', quick ? '1' : '3'));
const precision = arg('precision', 'bf16') as Precision;

/** One timed backend call: its row label, milliseconds and floating-point operations. */
interface Call {
  row: string;
  ms: number;
  flops: number;
}

const PASSES: Record<string, string> = {
  conv2d: 'forward',
  conv2dBackwardData: 'backward data',
  conv2dBackwardWeights: 'backward weights',
  linear: 'forward',
  linearBackwardData: 'backward data',
  linearBackwardWeights: 'backward weights',
  maxPool2d: 'forward',
  maxPool2dBackward: 'backward',
};

/** The backend with every top-level call timed into `calls` while `on()` holds. */
function profiled(be: Backend, calls: Call[], on: () => boolean): Backend {
  const names = new Map<string, string>(); // geometry → layer name, in forward order
  const nameOf = (kind: string, g: object): string => {
    const key = kind + JSON.stringify(g);
    if (!names.has(key)) names.set(key, `${kind}${[...names.keys()].filter((k) => k.startsWith(kind)).length + 1}`);
    return names.get(key)!;
  };
  return new Proxy(be, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const fn = value as (...a: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        if (!on()) return fn.apply(target, args);
        const t0 = performance.now();
        const out = fn.apply(target, args);
        const ms = performance.now() - t0;
        let row = prop;
        let flops = 0;
        if (prop.startsWith('conv2d')) {
          const g = args[prop === 'conv2d' ? 3 : 2] as ConvGeometry;
          row = `${nameOf('conv', g)} ${PASSES[prop]}`;
          flops = 2 * g.n * g.oc * g.oh * g.ow * (g.c / g.groups) * g.kh * g.kw;
        } else if (prop.startsWith('linear')) {
          const g = args[prop === 'linear' ? 3 : 2] as LinearGeometry;
          row = `${nameOf('fc', g)} ${PASSES[prop]}`;
          flops = 2 * g.m * g.n * g.k;
        } else if (prop.startsWith('maxPool2d')) {
          const g = args[prop === 'maxPool2d' ? 1 : 3] as PoolGeometry;
          row = `${nameOf('pool', g)} ${PASSES[prop]}`;
        }
        calls.push({ row, ms, flops });
        return out;
      };
    },
  });
}

function main(): void {
  const native = setBackend('native', { precision });
  if (native.precision !== precision) throw new Error(`the native backend cannot run ${precision} here`);
  const calls: Call[] = [];
  let recording = false;
  setBackend(profiled(native, calls, () => recording));
  const rng = new Generator(1);
  const model = createModel(arch, { rng });
  const [c, h, w] = model.inputShape;
  const x = Tensor.uniform([batch, c, h, w], -1, 1, { rng });
  const labels = Int32Array.from({ length: batch }, () => rng.int(model.numClasses));
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  const step = (): void => trainStep(model, opt, x, labels);
  step(); // warm-up: primitives built, weights' copies made
  const perRow = new Map<string, { ms: number[]; flops: number }>();
  const totals: number[] = [];
  for (let i = 0; i < iters; i++) {
    calls.length = 0;
    recording = true;
    const t0 = performance.now();
    step();
    totals.push(performance.now() - t0);
    recording = false;
    const sums = new Map<string, { ms: number; flops: number }>();
    for (const call of calls) {
      const s = sums.get(call.row) ?? { ms: 0, flops: 0 };
      s.ms += call.ms;
      s.flops += call.flops;
      sums.set(call.row, s);
    }
    for (const [row, s] of sums) {
      const r = perRow.get(row) ?? { ms: [], flops: s.flops };
      r.ms.push(s.ms);
      perRow.set(row, r);
    }
  }
  const threads = loadedAddon()?.threads() ?? 1;
  const peak = Number(arg('peak', '0')) || peakOf(measureLimits(threads, true), precision === 'bf16' ? 'bf16' : 'f32');
  const total = median(totals);
  console.log(
    `${arch}, batch ${batch}, ${precision}, one training step: ${total.toFixed(1)} ms (median of ${iters}); peak ${peak?.toFixed(0) ?? '?'} GFLOP/s`,
  );
  console.log('| layer, pass | ms | share of the step | GFLOP/s | % of peak |');
  console.log('| --- | --- | --- | --- | --- |');
  const rows = [...perRow].map(([row, r]) => ({ row, ms: median(r.ms), flops: r.flops }));
  let flops = 0;
  for (const r of rows) {
    flops += r.flops;
    const rate = r.flops ? r.flops / r.ms / 1e6 : 0;
    const cells = r.flops ? [rate.toFixed(0), peak ? `${((100 * rate) / peak).toFixed(0)}%` : '?'] : ['', ''];
    console.log(`| ${r.row} | ${r.ms.toFixed(1)} | ${((100 * r.ms) / total).toFixed(1)}% | ${cells.join(' | ')} |`);
  }
  const rate = flops / total / 1e6;
  console.log(`| whole step | ${total.toFixed(1)} | 100% | ${rate.toFixed(0)} | ${peak ? `${((100 * rate) / peak).toFixed(0)}%` : '?'} |`);
}

main();
