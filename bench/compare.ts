// `npm run bench`: our native backend against honest peers on this machine, in one run. PyTorch
// 1.13 runs on OpenBLAS (checked) in each of its fast CPU modes and reports its best (eager,
// channels_last, jit trace+freeze, optimize_for_inference; bf16: each under autocast); ONNX
// Runtime for Node runs the model exported by src/io/onnx with all graph optimisations and its
// threads pinned to ours. Cases: inference at batch 1 and 64 (f32; bf16 at 64) and a training step
// at batch 64 (f32, bf16), for alexnet and alexnet-v1. The machine's limits are measured in the
// same run (bench/limits/): every row says what fraction of the relevant one it reaches. Also each
// conv layer's GFLOP/s, the batch-1 floor and bf16's loss against f32. Writes the native section
// of BENCHMARKS.md and bench/results/compare.json (every PyTorch mode's numbers). Every
// measurement runs in its own process. Options:
//   --quick            batch 1/4, one timed iteration (smoke run; BENCHMARKS.md untouched)
//   --threads T        threads for every framework (default: the machine's cores)
//   --archs a,b        architectures (default alexnet,alexnet-v1)
//   --iters N          timed iterations (median reported; default 5)
//   --no-write         do not touch BENCHMARKS.md or bench/results/
import type { Precision } from '../src/backend/backend.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend, Storage } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import { setBackend } from '../src/backend/registry.js';
import { nativeInfo, tryLoadNative } from '../src/backend/native/index.js';
import { median } from '../src/bench/model_bench.js';
import { writeOnnx } from '../src/io/onnx/export.js';
import { writeFileAtomic } from '../src/io/write_atomic.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { CONV_LAYERS } from './layers.js';
import { measureLimits, peakOf, type MachineLimits } from './limits/limits.js';
import { benchModel, modelCost, type ModelCost } from './model_cost.js';
import { blasLine, ips, ms, ort, ours, root, torch, torchBlas, type Mode, type Row, type RunSpec } from './peers.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const quick = process.argv.includes('--quick');
const write = !quick && !process.argv.includes('--no-write');
const threads = Number(flag('threads') ?? os.availableParallelism());
const archs = (flag('archs') ?? 'alexnet,alexnet-v1').split(',') as ArchName[];
const firstArch: ArchName = archs[0] ?? 'alexnet';
const iters = quick ? 1 : Number(flag('iters') ?? 5);
const warmup = quick ? 1 : 2;
const big = quick ? 4 : 64;

/** Batch-1 latency is a few ms per call and noisy: it gets 10× the iterations (at least 20). */
const itersFor = (batch: number): number => (batch === 1 && !quick ? Math.max(20, iters * 10) : iters);
const spec = (arch: ArchName, batch: number, mode: Mode, precision: Precision): RunSpec => ({
  model: arch,
  batch,
  mode,
  precision,
  threads,
  warmup,
  iters: itersFor(batch),
});

function exportOnnx(arch: ArchName, dir: string): string | null {
  try {
    setBackend('reference');
    const file = path.join(dir, `${arch}.onnx`);
    writeOnnx(file, createModel(arch));
    return file;
  } catch (e) {
    console.error(`ONNX export of ${arch} failed: ${(e as Error).message}`);
    return null;
  }
}

/** The limit a case is measured against: a compute peak (flops per image) or the read bandwidth (weight bytes). */
interface Limit {
  name: string;
  /** GFLOP/s or GB/s. */
  rate: number | null;
  /** FLOPs or bytes one image costs. */
  perImage: number;
}

function limitFor(l: MachineLimits, cost: ModelCost, batch: number, mode: Mode, precision: Precision): Limit {
  if (batch === 1 && mode === 'infer')
    return {
      name: `read bandwidth ${l.read_gbps.toFixed(1)} GB/s; ${(cost.weightBytes / 1e6).toFixed(0)} MB of weights`,
      rate: l.read_gbps,
      perImage: cost.weightBytes,
    };
  const rate = peakOf(l, precision === 'bf16' ? 'bf16' : 'f32');
  const flops = mode === 'train' ? cost.trainFlops : cost.forwardFlops;
  return { name: `${precision} peak ${rate?.toFixed(0) ?? '?'} GFLOP/s; ${(flops / 1e9).toFixed(2)} GFLOP/img`, rate, perImage: flops };
}

/** Fraction of the limit a time reaches: work per image × images per second / the limit's rate. */
const fraction = (r: Row, lim: Limit): string => {
  const v = ips(r);
  return v && lim.rate ? `${((100 * v * lim.perImage) / 1e9 / lim.rate).toFixed(0)}%` : '';
};

const cell = (r: Row, lim: Limit): string => {
  if ('error' in r) return `error: ${r.error.slice(0, 80)}`;
  const mode = r.torch_mode ? ` ${r.torch_mode}` : '';
  return `${r.img_per_s.toFixed(1)} img/s (${r.ms_per_iter.toFixed(1)} ms)${mode}, ${fraction(r, lim)}`;
};

/** "1.21× ORT img/s (≥ 1.15×) ✓": a ratio, what it is of, the target and whether it is met. */
function verdict(value: number | null, what: string, target: number, atMost = false): string {
  if (value === null || !Number.isFinite(value)) return `n/a (${atMost ? '≤' : '≥'} ${target}×)`;
  const ok = atMost ? value <= target : value >= target;
  return `${value.toFixed(2)}× ${what} (${atMost ? '≤' : '≥'} ${target}×) ${ok ? 'met' : 'NOT met'}`;
}
const over = (a: number | null, b: number | null): number | null => (a && b ? a / b : null);

/**
 * For a throughput target relative to a peer: the fraction of the limit the target asks for (the
 * peer's fraction × the target). Above 100% no implementation can meet it on this machine, which
 * the verdict then says (a target set on another CPU, or against a slower baseline).
 */
function needs(peer: Row, lim: Limit, goal: number): string {
  const v = ips(peer);
  if (!v || !lim.rate) return '';
  const need = (100 * goal * v * lim.perImage) / 1e9 / lim.rate;
  return need > 100
    ? `; unreachable here: ${goal}× the peer needs ${need.toFixed(0)}% of the limit`
    : `; needs ${need.toFixed(0)}% of the limit`;
}

interface ConvRate {
  layer: string;
  pass: string;
  ms: number;
  gflops: number;
}

/** Per-layer f32 conv timing at batch `batch` with our kernels (forward, backward data, backward weights). */
function convRates(be: Backend, arch: ArchName, batch: number): ConvRate[] {
  const out: ConvRate[] = [];
  const fill = (shape: number[], scale: number): Storage => {
    const n = shape.reduce((a, b) => a * b);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37) * scale;
    return be.fromArray(a, shape);
  };
  const time = (fn: () => Storage[]): number => {
    const ts: number[] = [];
    for (let r = 0; r <= Math.max(1, iters >> 1); r++) {
      const t0 = performance.now();
      const res = fn();
      const elapsed = performance.now() - t0;
      for (const s of res) be.dispose(s);
      if (r > 0) ts.push(elapsed);
    }
    return median(ts);
  };
  for (const l of CONV_LAYERS[arch] ?? []) {
    const xs = [batch, l.c, l.hw, l.hw];
    const ws = [l.oc, l.c / l.g, l.k, l.k];
    const g = convGeometry(xs, ws, [l.s, l.s], [l.p, l.p], l.g);
    const macs = batch * l.oc * g.oh * g.ow * (l.c / l.g) * l.k * l.k;
    const x = fill(xs, 1);
    const w = fill(ws, 0.05);
    const b = fill([l.oc], 0.1);
    const gy = fill([batch, l.oc, g.oh, g.ow], 0.01);
    const rec = (pass: string, t: number) => out.push({ layer: l.name, pass, ms: t, gflops: (2 * macs) / t / 1e6 });
    rec(
      'forward',
      time(() => [be.conv2d(x, w, b, g, true)]),
    );
    if (l.c > 3)
      rec(
        'backward data',
        time(() => [be.conv2dBackwardData(gy, w, g)]),
      ); // conv1's input gradient is never needed
    rec(
      'backward weights',
      time(() => {
        const r = be.conv2dBackwardWeights(gy, x, g, true);
        return [r.gw, r.gb!];
      }),
    );
    for (const s of [x, w, b, gy]) be.dispose(s);
  }
  return out;
}

/**
 * What batch-1 latency can be here: the classifier reads each of its f32 weights once per image,
 * so its time is at least their bytes over the memory's read bandwidth; the convolutions' flops
 * at the f32 peak add to that. Compared with the ORT-relative target.
 */
function batchOneFloor(arch: ArchName, cost: ModelCost, ortMs: number | null, bandwidth: number, peak: number): string {
  const fcBytes = cost.layers.filter((l) => l.kind === 'linear').reduce((s, l) => s + l.weightBytes, 0);
  const convFlops = cost.layers.filter((l) => l.kind === 'conv').reduce((s, l) => s + l.flops, 0);
  const fcMs = fcBytes / bandwidth / 1e6;
  const convMs = convFlops / peak / 1e6;
  const target = ortMs
    ? ` The target, 0.9 × ONNX Runtime's ${ortMs.toFixed(1)} ms = ${(0.9 * ortMs).toFixed(1)} ms, ` +
      `leaves ${(0.9 * ortMs - fcMs).toFixed(1)} ms for the ${(convFlops / 1e9).toFixed(2)} GFLOP of convolutions, pooling and the rest ` +
      `(${(convFlops / (0.9 * ortMs - fcMs) / 1e6).toFixed(0)} GFLOP/s).`
    : '';
  return (
    `- ${arch}: classifier weights ${(fcBytes / 1e6).toFixed(0)} MB → ≥ ${fcMs.toFixed(1)} ms; ` +
    `convolutions at the f32 peak ≥ ${convMs.toFixed(1)} ms; together ≥ ${(fcMs + convMs).toFixed(1)} ms.${target}`
  );
}

/** bf16 training loss against f32 over the same steps (target: within 2%). */
function lossCheck(): string[] {
  const batch = quick ? 2 : 16;
  const steps = quick ? 3 : 50;
  const f = runLosses('f32', batch, steps);
  const b = runLosses('bf16', batch, steps);
  if (typeof f === 'string' || typeof b === 'string') return [`bf16 loss check failed: ${typeof f === 'string' ? f : b}`];
  let worst = 0;
  for (let i = 0; i < f.length; i++) worst = Math.max(worst, Math.abs(b[i]! - f[i]!) / Math.abs(f[i]!));
  return [
    '### bf16 training loss against f32',
    '',
    `${firstArch}, batch ${batch}, ${steps} SGD steps (lr 0.01, momentum 0.9) from the same seeded weights and data: ` +
      `largest per-step relative loss difference ${(100 * worst).toFixed(2)}% (target ≤ 2%); ` +
      `final loss f32 ${f.at(-1)?.toFixed(4)}, bf16 ${b.at(-1)?.toFixed(4)}.`,
  ];
}

/** Per-step losses of `steps` training steps (bench/loss_curve.ts), or why they could not be had. */
function runLosses(precision: Precision, batch: number, steps: number): number[] | string {
  const r = spawnSync(process.execPath, ['dist/bench/loss_curve.js', firstArch, String(batch), String(steps), precision, String(threads)], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) return (r.stderr || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed';
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { losses: number[] }).losses;
}

/** Replaces the generated section of BENCHMARKS.md (between its markers; appended when absent). */
function replaceNativeSection(file: string, section: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const begin = old.indexOf('<!-- native:begin');
  const end = old.indexOf('<!-- native:end -->');
  const next =
    begin >= 0 && end > begin
      ? old.slice(0, begin) + section + old.slice(end + '<!-- native:end -->'.length)
      : `${old.trimEnd()}\n\n${section}\n`;
  writeFileAtomic(file, [Buffer.from(next)]);
}

function limitsLines(l: MachineLimits): string[] {
  const g = (v: number | null, unit: string): string => (v === null ? 'n/a on this CPU' : `${v.toFixed(0)} ${unit}`);
  return [
    `### The machine's limits (bench/limits/, ${l.threads} threads, measured in this run)`,
    '',
    '| limit | instruction loop (registers only) | oneDNN matmul ' + `${l.matmul_n}³ | oneDNN kernel |`,
    '| --- | --- | --- | --- |',
    `| f32 FMA | ${g(l.f32_fma_loop_gflops, 'GFLOP/s')} | ${g(l.f32_matmul_gflops, 'GFLOP/s')} | ${l.f32_matmul_impl} |`,
    `| bf16 dot product (f32 accumulation) | ${g(l.bf16_dot_loop_gflops, 'GFLOP/s')} | ${g(l.bf16_matmul_gflops, 'GFLOP/s')} | ${l.bf16_matmul_impl} |`,
    `| int8 dot product (u8·s8 → s32) | ${g(l.int8_dot_loop_gops, 'GOP/s')} | ${g(l.int8_matmul_gops, 'GOP/s')} | ${l.int8_matmul_impl} |`,
    '',
    `Memory read bandwidth: ${l.read_gbps.toFixed(1)} GB/s (a streaming sum over ${(l.read_bytes / 2 ** 30).toFixed(2)} GiB on all ${l.threads} threads). ` +
      'A compute peak is the faster of the loop and the matmul; batch-1 inference is measured against the bandwidth (its weights are read once per image).',
  ];
}

/** The PyTorch modes of one case, as a table row: each mode's ms, the best in bold. */
function modesRow(arch: string, what: string, r: Row, names: string[]): string {
  if ('error' in r || !r.modes) return `| ${arch} | ${what} | ${names.map(() => '—').join(' | ')} |`;
  const cells = names.map((n) => {
    const m = r.modes?.[n];
    if (!m) return '—';
    if ('error' in m) return `fails: ${m.error.slice(0, 50)}`;
    const t = `${m.ms_per_iter.toFixed(1)} ms`;
    return n === r.torch_mode?.split(',')[0] ? `**${t}**` : t;
  });
  return `| ${arch} | ${what} | ${cells.join(' | ')} |`;
}

function main(): void {
  const info = nativeInfo();
  if (!info) throw new Error('the native addon is not built: run npm run build:native');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; oneDNN ${info.onednn} (ISA ${info.isa}); ${threads} threads for every framework`;
  console.log(machine);
  const blas = torchBlas();
  const blasText = blasLine(blas);
  console.log(blasText);
  const limits = measureLimits(threads, quick);
  const limitText = limitsLines(limits);
  console.log(limitText.join('\n'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'alexnet-bench-'));
  const raw: Record<string, unknown>[] = [];
  const ortLatency = new Map<ArchName, number | null>();
  const costs = new Map<ArchName, ModelCost>();
  let ortVersion = 'onnxruntime-node';
  const table: string[] = [
    '| arch | case | relevant limit | ours | PyTorch 1.13, best mode | ONNX Runtime | ratio (target) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  const inferModes = ['eager', 'channels_last', 'jit_freeze', 'jit_freeze_cl', 'jit_optimize'];
  const trainModes = ['eager', 'channels_last'];
  const modeTable: string[] = [`| arch | case | ${inferModes.join(' | ')} |`, `| --- | --- | ${inferModes.map(() => '---').join(' | ')} |`];
  const lines: string[] = [];
  const floorLines: string[] = [];
  const lossLines: string[] = [];
  try {
    for (const arch of archs) {
      setBackend('reference');
      const cost = modelCost(benchModel(arch));
      costs.set(arch, cost);
      const onnx = exportOnnx(arch, tmp);
      const cases: [string, number, Mode, Precision][] = [
        ['infer f32 batch 1 (latency)', 1, 'infer', 'f32'],
        [`infer f32 batch ${big}`, big, 'infer', 'f32'],
        [`infer bf16 batch ${big}`, big, 'infer', 'bf16'],
        [`train f32 batch ${big}`, big, 'train', 'f32'],
        [`train bf16 batch ${big}`, big, 'train', 'bf16'],
      ];
      for (const [what, batch, mode, precision] of cases) {
        const s = spec(arch, batch, mode, precision);
        const o = ours(s);
        const t = torch(s);
        const r = mode === 'infer' && precision === 'f32' ? ort(onnx, s) : null;
        if (r && !('error' in r)) ortVersion = r.backend;
        const lim = limitFor(limits, cost, batch, mode, precision);
        let target: string;
        if (batch === 1) {
          ortLatency.set(arch, r ? ms(r) : null);
          target = verdict(over(ms(o), r ? ms(r) : null), 'of ORT latency', 0.9, true);
        } else if (precision === 'f32' && mode === 'infer') target = verdict(over(ips(o), r ? ips(r) : null), 'ORT img/s', 1.15);
        else {
          const goal = mode === 'train' ? (precision === 'f32' ? 3 : 2) : 2.5;
          target = verdict(over(ips(o), ips(t)), `PyTorch's best${precision === 'bf16' ? ' autocast' : ''} mode`, goal);
          if (target.endsWith('NOT met')) target += needs(t, lim, goal);
        }
        table.push(`| ${arch} | ${what} | ${lim.name} | ${cell(o, lim)} | ${cell(t, lim)} | ${r ? cell(r, lim) : '—'} | ${target} |`);
        modeTable.push(modesRow(arch, what, t, mode === 'train' ? trainModes : inferModes));
        raw.push({ arch, case: what, ours: o, pytorch: t, ort: r, limit: lim });
        console.log(table.at(-1));
      }
    }
    // Conv efficiency: our f32 kernels against the f32 peak.
    const peak = peakOf(limits, 'f32') ?? limits.f32_matmul_gflops;
    const be = tryLoadNative({ precision: 'f32', threads }).backend;
    if (!be) throw new Error('native backend unavailable');
    lines.push('| arch | layer | pass | ms | GFLOP/s | % of the f32 peak |', '| --- | --- | --- | --- | --- | --- |');
    for (const arch of archs) {
      for (const r of convRates(be, arch, big)) {
        lines.push(
          `| ${arch} | ${r.layer} | ${r.pass} | ${r.ms.toFixed(1)} | ${r.gflops.toFixed(0)} | ${((100 * r.gflops) / peak).toFixed(0)}% |`,
        );
      }
    }
    console.log(lines.join('\n'));
    floorLines.push(
      '### Batch-1 latency: the floor on this machine',
      '',
      `Read bandwidth ${limits.read_gbps.toFixed(1)} GB/s and f32 peak ${peak.toFixed(0)} GFLOP/s, from the limits above.`,
      '',
    );
    for (const arch of archs) floorLines.push(batchOneFloor(arch, costs.get(arch)!, ortLatency.get(arch) ?? null, limits.read_gbps, peak));
    console.log(floorLines.join('\n'));
    lossLines.push(...lossCheck());
    console.log(lossLines.join('\n'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const section = [
    '<!-- native:begin (written by `npm run bench`, bench/compare.ts) -->',
    '## Native backend (oneDNN) against PyTorch and ONNX Runtime',
    '',
    `Machine: ${machine}. Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    `Command: \`npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` — median of ${iters} timed iterations (batch 1: ${itersFor(1)}) after ${warmup} warm-up, each framework in its own process.`,
    `PyTorch: Debian's 1.13, OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = ${threads}, the best of its modes (table below; bf16: torch.autocast('cpu') with each), each run with libgomp's default wait and with OMP_WAIT_POLICY=passive (the faster reported; ours runs with the library's default short spin). ${blasText}.`,
    `ONNX Runtime: ${ortVersion}, graphOptimizationLevel 'all' (ORT_ENABLE_ALL), intraOpNumThreads ${threads}, interOpNumThreads 1, executionMode 'sequential'.`,
    'Each cell ends with the fraction of the relevant limit it reaches (work per image × images/s ÷ the limit).',
    info.isa === 'avx512_core_amx'
      ? 'This CPU has AMX: bf16 convolutions and inner products run on AMX tiles.'
      : `This CPU (oneDNN ISA ${info.isa}) has no AMX: bf16 runs on AVX512-BF16 dot products where the CPU has them.`,
    '',
    ...table,
    '',
    "### PyTorch's modes (median ms per iteration; the best in bold)",
    '',
    ...modeTable,
    '',
    ...limitText,
    '',
    '### Convolutions, f32, our kernels',
    '',
    ...lines,
    '',
    ...floorLines,
    '',
    ...lossLines,
    '<!-- native:end -->',
  ].join('\n');
  if (write) {
    replaceNativeSection(path.join(root, 'BENCHMARKS.md'), section);
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileAtomic(path.join(root, 'bench/results/compare.json'), [
      Buffer.from(`${JSON.stringify({ machine, blas, limits, rows: raw }, null, 1)}\n`),
    ]);
    console.log('wrote the native section of BENCHMARKS.md and bench/results/compare.json');
  }
}

main();
