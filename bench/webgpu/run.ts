// The WebGPU benchmark (npm run bench:webgpu [-- --quick] [--batch N] [--peers ours,ours-f16,ort,tfjs]):
// torchvision AlexNet batch-1 latency (median) and batch-32 throughput, and an alexnet-v1 training
// step (batch 16 at 65×65), for our webgpu backend (f32, and 'ours-f16': f16 weights), ONNX Runtime Web 1.30's WebGPU execution provider and
// TF.js 4.22's WebGPU backend, in one headless Debian Chromium with WebGPU enabled, on the adapter
// navigator.gpu gives (a real GPU where the machine has one, else SwiftShader: then the table says
// so and its numbers only compare the three peers), one peer at a time. Served from 127.0.0.1 with
// COOP/COEP (our backend's reads block on shared memory): the page bundles (esbuild), ORT's wasm
// files, our library's browser bundle (dist/browser: alexnet.js and its GPU worker) and the model
// assets the browser benchmark writes (same seeded weights). Prints a markdown table.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { bundleBenchPage, maxAbsDiff, serveBench } from '../browser/harness.js';
import { CHROMIUM } from '../../test/browser_helpers.js';
import { CHROMIUM_WEBGPU_ARGS, adapterName, isSoftwareAdapter } from '../../test/webgpu_browser_helpers.js';
import { writeModelAssets } from '../browser/run.js';
import type { GpuBenchConfig, GpuBenchReport, GpuPeerResult } from './protocol.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// Generated files (page bundles, model assets) go under dist/, which git and lint ignore.
const WORK = join(ROOT, 'dist', 'bench_webgpu');
const PEERS = ['ours', 'ours-f16', 'ort', 'tfjs'];
const PAGE =
  '<!doctype html><meta charset="utf-8"><title>alexnet WebGPU benchmark</title><script type="module" src="/bench/page.js"></script>';

function parseArgs(argv: string[]): { quick: boolean; peers: string[]; batch?: number } {
  const args: { quick: boolean; peers: string[]; batch?: number } = { quick: false, peers: PEERS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--peers') args.peers = (argv[++i] ?? '').split(',');
    else if (a === '--batch') args.batch = Number(argv[++i]);
    else throw new Error(`bench:webgpu: unknown argument ${a} (use --quick, --batch N, --peers ${PEERS.join(',')})`);
  }
  if (args.batch !== undefined && !(Number.isInteger(args.batch) && args.batch > 0))
    throw new Error('bench:webgpu: --batch takes a positive integer');
  const unknown = args.peers.filter((p) => !PEERS.includes(p));
  if (unknown.length) throw new Error(`bench:webgpu: unknown peer ${unknown.join(', ')} (use ${PEERS.join(', ')})`);
  return args;
}

function bundlePage(dir: string): Promise<void> {
  return bundleBenchPage(dir, {
    page: join(ROOT, 'bench/webgpu/page.ts'),
    ours_webgpu_worker: join(ROOT, 'bench/webgpu/ours_webgpu_worker.ts'),
  });
}

function serve(): Promise<{ url: string; close: () => Promise<void> }> {
  const mounts: [string, string][] = [
    ['/bench/', join(WORK, 'page')],
    ['/assets/', join(WORK, 'assets')],
    ['/ort/', join(ROOT, 'node_modules/onnxruntime-web/dist')],
    ['/lib/', join(ROOT, 'dist/browser')],
  ];
  return serveBench(mounts, (reply) => reply.type('text/html').send(PAGE));
}

/** Whole numbers from 100, else three significant digits (SwiftShader's throughputs are fractions of an image per second). */
const fmt = (v: number | null): string => (v === null ? '—' : v >= 100 ? v.toFixed(0) : v.toPrecision(3));

/** The notes under the table: each peer's, logits agreement with the first peer that has logits, ours against the faster peer. */
function notes(results: GpuPeerResult[], cfg: GpuBenchConfig): string[] {
  const out = results.flatMap((r) => r.notes.map((n) => `- ${r.peer}: ${n}`));
  const base = results.find((r) => r.logits.length > 0);
  for (const r of results) {
    if (base && r !== base && r.logits.length > 0) {
      const scale = Math.max(...base.logits.map(Math.abs));
      out.push(
        `- batch-1 logits, ${r.peer} vs ${base.peer}: max |Δ| ${maxAbsDiff(r.logits, base.logits).toExponential(2)} (max |logit| ${scale.toExponential(2)})`,
      );
    }
  }
  const ours = results.filter((r) => r.peer.startsWith('ours'));
  const peers = results.filter((r) => !r.peer.startsWith('ours'));
  const bestLatency = Math.min(...peers.map((r) => r.latencyMs ?? Infinity));
  const bestThroughput = Math.max(...peers.map((r) => r.throughput ?? 0));
  for (const o of ours) {
    const who = o.peer.replace(/^ours \((.*)\)$/, '$1');
    if (o.latencyMs && Number.isFinite(bestLatency))
      out.push(`- ours (${who}) / faster peer, batch-1 latency: ${(o.latencyMs / bestLatency).toFixed(2)}× (goal ≤ 1×)`);
    if (o.throughput && bestThroughput > 0)
      out.push(
        `- ours (${who}) / faster peer, batch-${cfg.batch} throughput: ${(o.throughput / bestThroughput).toFixed(2)}× (goal ≥ 1.25×)`,
      );
  }
  const [f32, f16] = [ours.find((r) => !r.peer.includes('f16')), ours.find((r) => r.peer.includes('f16'))];
  if (f32?.latencyMs && f16?.latencyMs)
    out.push(
      `- f16 weights / f32, ours: batch-1 latency ${(f16.latencyMs / f32.latencyMs).toFixed(2)}×` +
        (f32.throughput && f16.throughput ? `, batch-${cfg.batch} throughput ${(f16.throughput / f32.throughput).toFixed(2)}×` : ''),
    );
  return out;
}

function table(report: GpuBenchReport, cfg: GpuBenchConfig): string {
  const lines = [
    `| peer | adapter | batch 1 latency (ms, median of ${cfg.latencyIters}) | batch ${cfg.batch} throughput (img/s) | alexnet-v1 ${cfg.trainSize}×${cfg.trainSize} train step, batch ${cfg.trainBatch} (ms) |`,
    '| --- | --- | --- | --- | --- |',
    ...report.results.map((r) => `| ${r.peer} | ${r.adapter || '—'} | ${fmt(r.latencyMs)} | ${fmt(r.throughput)} | ${fmt(r.trainMs)} |`),
  ];
  return [...lines, '', ...notes(report.results, cfg)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // --quick proves the harness (one timed run each, batch 2: SwiftShader on a busy 2-core machine
  // takes tens of seconds per batch-1 forward); the full run is the batch 1 and 32.
  const cfg: GpuBenchConfig = args.quick
    ? { latencyWarmup: 1, latencyIters: 1, batchWarmup: 1, batchIters: 1, batch: args.batch ?? 2, trainBatch: 2, trainSize: 65 }
    : { latencyWarmup: 2, latencyIters: 7, batchWarmup: 1, batchIters: 3, batch: args.batch ?? 32, trainBatch: 16, trainSize: 65 };
  if (args.peers.some((p) => p.startsWith('ours')) && !existsSync(join(ROOT, 'dist/browser/alexnet.js')))
    throw new Error('bench:webgpu: dist/browser/alexnet.js is missing: run npm run build (it bundles the library) first');
  writeModelAssets(join(WORK, 'assets')); // every run: never a stale export
  await bundlePage(join(WORK, 'page'));
  const server = await serve();
  const profile = mkdtempSync(join(tmpdir(), 'alexnet-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_WEBGPU_ARGS, headless: true });
  try {
    const page = await context.newPage();
    page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
    page.on('response', (r) => {
      if (r.status() >= 400) process.stderr.write(`[page] ${r.status()} ${r.url()}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => typeof window.runGpuBench === 'function');
    const report = await page.evaluate(([c, p]) => window.runGpuBench(c, p), [cfg, args.peers] as const);
    if ('none' in report.adapter) throw new Error(`Chromium gives no WebGPU adapter here: ${report.adapter.none}`);
    const version = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const software = isSoftwareAdapter(report.adapter)
      ? ' — a software adapter (the GPU is emulated on the CPU): these numbers only compare the three peers on it, not GPUs'
      : '';
    process.stdout.write(
      `${version}, WebGPU adapter: ${adapterName(report.adapter)}${software}${args.quick ? ', --quick' : ''}\n\n${table(report, cfg)}\n`,
    );
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await server.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:webgpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
