// `npm run bench`: our native backend against PyTorch (f32 and bf16 autocast, same threads) and
// ONNX Runtime for Node (f32 inference of the model exported by src/io/onnx) for inference at
// batch 1 and 64 and a training step at batch 64, for alexnet and alexnet-v1; prints ratios
// against the issue's targets, each conv layer's GFLOP/s against a measured FMA peak, and writes
// the native section of BENCHMARKS.md. Every measurement runs in its own process (no thread pools
// competing). Options:
//   --quick            batch 1/4, one timed iteration (smoke run; BENCHMARKS.md untouched)
//   --threads T        threads for every framework (default: the machine's cores)
//   --archs a,b        architectures (default alexnet,alexnet-v1)
//   --iters N          timed iterations (median reported; default 5)
//   --no-write         do not touch BENCHMARKS.md
import type { Precision } from '../src/backend/backend.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, Storage } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import { setBackend } from '../src/backend/registry.js';
import { measureFmaPeak, measureReadBandwidth, nativeInfo, tryLoadNative } from '../src/backend/native/index.js';
import type { BenchResult } from '../src/bench/model_bench.js';
import { median } from '../src/bench/model_bench.js';
import { writeOnnx } from '../src/io/onnx/export.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { CONV_LAYERS } from './layers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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
const python = process.env.ALEXNET_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

type Row = BenchResult | { error: string };

function parseJson(out: string): BenchResult {
  const line = out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error('no JSON in output');
  return JSON.parse(line) as BenchResult;
}

function run(cmd: string, args: string[]): Row {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' }, maxBuffer: 1 << 24 });
  if (r.status !== 0) return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed' };
  try {
    return parseJson(r.stdout);
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Batch-1 latency is a few ms per call and noisy here: it gets 10× the iterations (at least 20). */
const itersFor = (batch: number): number => (batch === 1 && !quick ? Math.max(20, iters * 10) : iters);

function ours(arch: ArchName, batch: number, mode: 'infer' | 'train', precision: Precision): Row {
  return run(process.execPath, [
    'bin/alexnet.js',
    'bench',
    '--arch',
    arch,
    '--batch',
    String(batch),
    '--mode',
    mode,
    '--precision',
    precision,
    '--threads',
    String(threads),
    '--iters',
    String(itersFor(batch)),
    '--warmup',
    String(warmup),
    '--json',
  ]);
}

function torch(arch: ArchName, batch: number, mode: 'infer' | 'train', precision: Precision): Row {
  return run(python, [
    'bench/torch_bench.py',
    arch,
    String(batch),
    mode,
    precision,
    String(threads),
    String(warmup),
    String(itersFor(batch)),
  ]);
}

function ort(onnxFile: string | null, arch: ArchName, batch: number): Row {
  if (!onnxFile) return { error: 'no ONNX export' };
  return run(process.execPath, [
    'dist/bench/ort_infer.js',
    onnxFile,
    arch,
    String(batch),
    String(threads),
    String(warmup),
    String(itersFor(batch)),
  ]);
}

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

const ips = (r: Row): number | null => ('error' in r ? null : r.img_per_s);
const fmt = (r: Row): string =>
  'error' in r ? `error: ${r.error.slice(0, 60)}` : `${r.img_per_s.toFixed(1)} img/s (${r.ms_per_iter.toFixed(1)} ms)`;
const ratio = (a: number | null, b: number | null): string => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a');

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
      const ms = performance.now() - t0;
      for (const s of res) be.dispose(s);
      if (r > 0) ts.push(ms);
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
    const rec = (pass: string, ms: number) => out.push({ layer: l.name, pass, ms, gflops: (2 * macs) / ms / 1e6 });
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

/** Bytes of the linear layers' f32 weights (the 2-D parameters): what a batch-1 forward streams. */
function classifierBytes(arch: ArchName): number {
  return createModel(arch)
    .parameters()
    .filter((p) => p.shape.length === 2)
    .reduce((s, p) => s + 4 * p.size, 0);
}

/**
 * What batch-1 latency can be here: the classifier reads each of its f32 weights once per image,
 * so its time is at least their bytes over the memory's read bandwidth; the convolutions' flops
 * at the best compute rate seen add to that. Compared with the ORT-relative target.
 */
function batchOneFloor(arch: ArchName, ortMs: number | null, bandwidth: number, peak: number): string {
  const fcBytes = classifierBytes(arch);
  const convFlops = (CONV_LAYERS[arch] ?? []).reduce((s, l) => {
    const g = convGeometry([1, l.c, l.hw, l.hw], [l.oc, l.c / l.g, l.k, l.k], [l.s, l.s], [l.p, l.p], l.g);
    return s + 2 * l.oc * g.oh * g.ow * (l.c / l.g) * l.k * l.k;
  }, 0);
  const fcMs = fcBytes / bandwidth / 1e6;
  const convMs = convFlops / peak / 1e6;
  const target = ortMs
    ? ` The target, 0.9 × ONNX Runtime's ${ortMs.toFixed(1)} ms = ${(0.9 * ortMs).toFixed(1)} ms, ` +
      `leaves ${(0.9 * ortMs - fcMs).toFixed(1)} ms for the ${(convFlops / 1e9).toFixed(2)} GFLOP of convolutions, pooling and the rest ` +
      `(${(convFlops / (0.9 * ortMs - fcMs) / 1e6).toFixed(0)} GFLOP/s).`
    : '';
  return (
    `- ${arch}: classifier weights ${(fcBytes / 1e6).toFixed(0)} MB → ≥ ${fcMs.toFixed(1)} ms; ` +
    `convolutions at that rate ≥ ${convMs.toFixed(1)} ms; together ≥ ${(fcMs + convMs).toFixed(1)} ms.${target}`
  );
}

/** bf16 training loss against f32 over the same steps (target: within 2%). */
function lossCheck(): string[] {
  const arch = firstArch;
  const batch = quick ? 2 : 16;
  const steps = quick ? 3 : 50;
  const curve = (precision: Precision): number[] | string => {
    const r = spawnSync(process.execPath, ['dist/bench/loss_curve.js', arch, String(batch), String(steps), precision, String(threads)], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, OMP_WAIT_POLICY: 'passive' },
    });
    if (r.status !== 0) return (r.stderr || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed';
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { losses: number[] }).losses;
  };
  const f = curve('f32');
  const b = curve('bf16');
  if (typeof f === 'string' || typeof b === 'string') return [`bf16 loss check failed: ${typeof f === 'string' ? f : b}`];
  let worst = 0;
  for (let i = 0; i < f.length; i++) worst = Math.max(worst, Math.abs(b[i]! - f[i]!) / Math.abs(f[i]!));
  return [
    '### bf16 training loss against f32',
    '',
    `${arch}, batch ${batch}, ${steps} SGD steps (lr 0.01, momentum 0.9) from the same seeded weights and data: ` +
      `largest per-step relative loss difference ${(100 * worst).toFixed(2)}% (target ≤ 2%); ` +
      `final loss f32 ${f.at(-1)?.toFixed(4)}, bf16 ${b.at(-1)?.toFixed(4)}.`,
  ];
}

function main(): void {
  const info = nativeInfo();
  if (!info) throw new Error('the native addon is not built: run npm run build:native');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const machine = `${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; oneDNN ${info.onednn} (ISA ${info.isa}); ${threads} threads for every framework`;
  console.log(machine);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'alexnet-bench-'));
  const lines: string[] = [];
  const lossLines: string[] = [];
  const floorLines: string[] = [];
  const ortLatency = new Map<ArchName, number | null>();
  const table: string[] = [
    '| arch | case | ours | PyTorch 1.13 | ONNX Runtime | ratio (target) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  try {
    for (const arch of archs) {
      const onnx = exportOnnx(arch, tmp);
      const o1 = ours(arch, 1, 'infer', 'f32');
      const r1 = ort(onnx, arch, 1);
      const t1 = torch(arch, 1, 'infer', 'f32');
      const lat = (r: Row) => ('error' in r ? null : r.ms_per_iter);
      ortLatency.set(arch, lat(r1));
      table.push(
        `| ${arch} | infer f32 batch 1 (latency) | ${fmt(o1)} | ${fmt(t1)} | ${fmt(r1)} | ${ratio(lat(o1), lat(r1))} of ORT latency (≤ 0.9×) |`,
      );
      const o64 = ours(arch, big, 'infer', 'f32');
      const r64 = ort(onnx, arch, big);
      const t64 = torch(arch, big, 'infer', 'f32');
      table.push(
        `| ${arch} | infer f32 batch ${big} | ${fmt(o64)} | ${fmt(t64)} | ${fmt(r64)} | ${ratio(ips(o64), ips(r64))} ORT img/s (≥ 1.15×) |`,
      );
      const ob = ours(arch, big, 'infer', 'bf16');
      const tb = torch(arch, big, 'infer', 'bf16');
      table.push(
        `| ${arch} | infer bf16 batch ${big} | ${fmt(ob)} | ${fmt(tb)} (autocast) | — | ${ratio(ips(ob), ips(tb))} PyTorch bf16 (≥ 2.5×) |`,
      );
      const otr = ours(arch, big, 'train', 'f32');
      const ttr = torch(arch, big, 'train', 'f32');
      table.push(
        `| ${arch} | train f32 batch ${big} | ${fmt(otr)} | ${fmt(ttr)} | — | ${ratio(ips(otr), ips(ttr))} PyTorch f32 (≥ 1.8×) |`,
      );
      const otb = ours(arch, big, 'train', 'bf16');
      const ttb = torch(arch, big, 'train', 'bf16');
      table.push(
        `| ${arch} | train bf16 batch ${big} | ${fmt(otb)} | ${fmt(ttb)} (autocast) | — | ${ratio(ips(otb), ips(ttb))} PyTorch bf16 (≥ 1.8×) |`,
      );
      console.log(table.slice(-5).join('\n'));
    }
    // Conv efficiency: our f32 kernels against the FMA peak (a large f32 oneDNN matmul).
    const be = tryLoadNative({ precision: 'f32', threads }).backend;
    if (!be) throw new Error('native backend unavailable');
    const peak = measureFmaPeak(quick ? 1024 : 2048, quick ? 1 : 3);
    lines.push(`Measured FMA peak (f32 ${quick ? 1024 : 2048}³ oneDNN matmul): ${peak.toFixed(0)} GFLOP/s.`, '');
    lines.push('| arch | layer | pass | ms | GFLOP/s | % of peak |', '| --- | --- | --- | --- | --- | --- |');
    let bestConv = peak;
    for (const arch of archs) {
      for (const r of convRates(be, arch, big)) {
        bestConv = Math.max(bestConv, r.gflops);
        lines.push(
          `| ${arch} | ${r.layer} | ${r.pass} | ${r.ms.toFixed(1)} | ${r.gflops.toFixed(0)} | ${((100 * r.gflops) / peak).toFixed(0)}% |`,
        );
      }
    }
    console.log(lines.join('\n'));
    const fcMib = Math.ceil(classifierBytes(firstArch) / 2 ** 20);
    const bandwidth = measureReadBandwidth(quick ? 64 : fcMib, quick ? 1 : 5);
    floorLines.push(
      '### Batch-1 latency: the floor on this machine',
      '',
      `Memory read bandwidth (${threads} threads, ${quick ? 'a 64 MiB buffer (quick run)' : `a ${fcMib} MiB buffer, the size of the classifier's weights`}): ${bandwidth.toFixed(1)} GB/s.`,
      '',
    );
    floorLines.push(
      `Compute rate: the faster of the FMA peak above and the best convolution rate measured, ${bestConv.toFixed(0)} GFLOP/s.`,
      '',
    );
    for (const arch of archs) floorLines.push(batchOneFloor(arch, ortLatency.get(arch) ?? null, bandwidth, bestConv));
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
    info.isa === 'avx512_core_amx'
      ? "Targets are the issue's, set on an Intel machine with AMX, the kind this CPU is (bf16 convolutions and inner products run on AMX tiles)."
      : `Targets are the issue's, set on an Intel machine with AMX; this CPU (oneDNN ISA ${info.isa}) has no AMX, so bf16 gains are smaller than there.`,
    '',
    ...table,
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
    const file = path.join(root, 'BENCHMARKS.md');
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const begin = old.indexOf('<!-- native:begin');
    const end = old.indexOf('<!-- native:end -->');
    const next =
      begin >= 0 && end > begin
        ? old.slice(0, begin) + section + old.slice(end + '<!-- native:end -->'.length)
        : `${old.trimEnd()}\n\n${section}\n`;
    writeFileSync(file, next);
    console.log(`wrote the native section of ${file}`);
  }
}

main();
