// `npm run bench:serve`: `alexnet serve` under autocannon on 127.0.0.1: throughput and p50/p99
// latency of POST /v1/predict with a 500×375 JPEG (decoding included) at 1, 8 and 64 concurrent
// clients, with batching on (--max-batch 32) and off (--max-batch 1); against `alexnet bench`'s
// batch-32 images/s and batch-1 latency for the same model and precision and the decoding time of
// one image, with the three goals checked. Each server and each `alexnet bench` runs in a
// process of its own. Each run also reports the CPU time per request of the server (all its
// threads, from /proc) and of autocannon (this process), which shares the machine's cores with it;
// and, at one client, the server's own Server-Timing stages (decode, queue, infer) against the
// latency the client saw. Options:
//   --quick            2 s per run, no warm-up run (a smoke test of the benchmark itself)
//   --duration S       seconds per measured run (default 15)
//   --arch A           model (default alexnet, random weights written to a temporary folder)
//   --weights W        serve these weights instead (--arch ignored)
//   --precision P      f32 | bf16 (default f32)
//   --json             one JSON object at the end instead of the tables
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { BenchResult } from '../src/bench/model_bench.js';
import { median } from '../src/bench/model_bench.js';
import { writePth } from '../src/io/pth/index.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { Generator } from '../src/random.js';
import { preprocessor } from '../src/serve/preprocess.js';
import { evalTransformsFor } from '../src/train/predict.js';
import { materialize } from '../src/train/data.js';
import { modelFromWeights, modelWeights } from '../src/train/weights.js';
import { DEFAULT_MAX_PIXELS } from '../src/data/image.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const duration = quick ? 2 : Number(flag('duration') ?? 15);
const arch = (flag('arch') ?? 'alexnet') as ArchName;
const precision = flag('precision') ?? 'f32';
const CLIENTS = [1, 8, 64];
const MODES = [
  { name: 'batching on', maxBatch: 32 },
  { name: 'batching off', maxBatch: 1 },
];
const image = readFileSync(join(root, 'data/samples/cat.jpg'));
const log = (s: string): void => {
  if (!json) process.stdout.write(s + '\n');
};

/** `alexnet bench` in its own process: median images/s and ms per batch. */
function modelBench(weightsArch: ArchName, batch: number): BenchResult {
  const iters = quick ? ['--iters', '2', '--warmup', '1'] : ['--iters', '9', '--warmup', '3'];
  const r = spawnSync(
    process.execPath,
    ['bin/alexnet.js', 'bench', '--arch', weightsArch, '--batch', String(batch), '--precision', precision, '--json', ...iters],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`alexnet bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as BenchResult;
}

/** Median ms to decode and preprocess the benchmark's image on one thread, as a decode worker does. */
async function decodeMs(weights: string): Promise<number> {
  const { info, meanImage } = modelFromWeights(weights);
  const transforms = materialize(evalTransformsFor(info), () => '', meanImage);
  const preprocess = preprocessor({ info, transforms, maxPixels: DEFAULT_MAX_PIXELS });
  const times: number[] = [];
  for (let i = 0; i < (quick ? 10 : 60); i++) {
    const t0 = performance.now();
    await preprocess(image, 'cat.jpg');
    times.push(performance.now() - t0);
  }
  return median(times.slice(quick ? 2 : 10));
}

/** CPU seconds used so far by process `pid`, all threads (Linux /proc; NaN elsewhere). */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

interface Server {
  base: string;
  pid: number;
  stop: () => Promise<void>;
}

/** Starts `alexnet serve` on a free port; resolves with its address and a stop function. */
function startServer(weights: string, maxBatch: number): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      'bin/alexnet.js',
      'serve',
      '--weights',
      weights,
      '--port',
      '0',
      '--max-batch',
      String(maxBatch),
      '--precision',
      precision,
      '--max-queue',
      '1024',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((ok, fail) => {
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /ready: POST (http:\/\/\S+)\/v1\/predict/.exec(err);
      if (m)
        ok({
          base: m[1]!,
          pid: child.pid!,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
    });
    void exited.then((code) => fail(new Error(`alexnet serve exited with ${code}: ${err}`)));
  });
}

interface Run {
  mode: string;
  clients: number;
  reqPerS: number;
  p50: number;
  p99: number;
  failures: number;
  /** CPU ms per answered request: the server's (all threads) and autocannon's (this process). */
  serverCpuMs: number;
  clientCpuMs: number;
}

/** Median ms of one client's sequential requests and of the server's Server-Timing stages. */
interface OneClientStages {
  total: number;
  decode: number;
  queue: number;
  infer: number;
}

/** `n` sequential requests on one keep-alive connection: medians of the latency and of each stage the server reports. */
async function oneClientStages(base: string, n: number): Promise<OneClientStages> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const rows: OneClientStages[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const timing = await new Promise<string>((ok, fail) => {
        const req = request(`${base}/v1/predict`, { method: 'POST', agent, headers: { 'content-type': 'image/jpeg' } }, (res) => {
          res.resume();
          res.on('end', () => ok(String(res.headers['server-timing'] ?? '')));
        });
        req.on('error', fail);
        req.end(image);
      });
      const stage = (k: string): number => Number(new RegExp(`${k};dur=([\\d.]+)`).exec(timing)?.[1] ?? NaN);
      rows.push({ total: performance.now() - t0, decode: stage('decode'), queue: stage('queue'), infer: stage('infer') });
    }
  } finally {
    agent.destroy();
  }
  const med = (k: keyof OneClientStages): number => median(rows.slice(Math.min(3, n - 1)).map((r) => r[k]));
  return { total: med('total'), decode: med('decode'), queue: med('queue'), infer: med('infer') };
}

async function load(base: string, clients: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${base}/v1/predict`,
    method: 'POST',
    headers: { 'content-type': 'image/jpeg' },
    body: image,
    connections: clients,
    duration: seconds,
    timeout: 30,
  });
}

async function main(): Promise<void> {
  let weights = flag('weights');
  let temp: string | null = null;
  if (!weights) {
    temp = mkdtempSync(join(tmpdir(), 'alexnet-bench-serve-'));
    weights = join(temp, `${arch}.pth`);
    writePth(weights, modelWeights(createModel(arch, { rng: new Generator(1) })));
  }
  try {
    const servedArch = modelFromWeights(weights).info.arch;
    log(`# alexnet serve benchmark: ${servedArch}, ${precision}, ${duration} s per run${quick ? ' (quick)' : ''}`);
    const b32 = modelBench(servedArch, 32);
    const b1 = modelBench(servedArch, 1);
    const decode = await decodeMs(weights);
    log(
      `alexnet bench: batch 32 ${b32.img_per_s.toFixed(1)} img/s; batch 1 ${b1.ms_per_iter.toFixed(2)} ms; decoding ${decode.toFixed(2)} ms an image`,
    );
    const runs: Run[] = [];
    let stages: OneClientStages | null = null;
    for (const mode of MODES) {
      const server = await startServer(weights, mode.maxBatch);
      try {
        for (const clients of CLIENTS) {
          if (!quick) await load(server.base, clients, 3); // warm-up: connections, primitives of each batch size
          const server0 = processCpuSeconds(server.pid);
          const client0 = process.cpuUsage();
          const r = await load(server.base, clients, duration);
          const client = process.cpuUsage(client0);
          const answered = Math.max(1, r['2xx']);
          runs.push({
            mode: mode.name,
            clients,
            reqPerS: r['2xx'] / r.duration,
            p50: r.latency.p50,
            p99: r.latency.p99,
            failures: r.non2xx + r.errors + r.timeouts,
            serverCpuMs: ((processCpuSeconds(server.pid) - server0) * 1000) / answered,
            clientCpuMs: (client.user + client.system) / 1000 / answered,
          });
          const last = runs[runs.length - 1]!;
          log(
            `${mode.name}, ${clients} clients: ${last.reqPerS.toFixed(1)} req/s, p50 ${last.p50} ms, p99 ${last.p99} ms, ${last.failures} failures; ` +
              `CPU ms/request: server ${last.serverCpuMs.toFixed(2)}, autocannon ${last.clientCpuMs.toFixed(2)}`,
          );
        }
        if (mode.maxBatch > 1) stages = await oneClientStages(server.base, quick ? 10 : 60);
      } finally {
        await server.stop();
      }
    }
    const find = (mode: string, clients: number): Run => runs.find((r) => r.mode === mode && r.clients === clients)!;
    const saturated = Math.max(...runs.filter((r) => r.mode === 'batching on').map((r) => r.reqPerS));
    const off = Math.max(...runs.filter((r) => r.mode === 'batching off').map((r) => r.reqPerS));
    const p50Budget = b1.ms_per_iter + decode + 2;
    const goals = [
      { goal: 'saturated throughput ≥ 0.8× alexnet bench --batch 32', value: saturated / b32.img_per_s, target: 0.8 },
      { goal: 'batching on ≥ 3× batching off (saturated)', value: saturated / off, target: 3 },
      {
        goal: `p50 at 1 client ≤ batch-1 + decode + 2 ms (${p50Budget.toFixed(1)} ms)`,
        value: find('batching on', 1).p50,
        target: p50Budget,
        atMost: true,
      },
    ];
    if (json) {
      process.stdout.write(
        JSON.stringify({
          arch: servedArch,
          precision,
          duration,
          batch32: b32,
          batch1: b1,
          decodeMs: decode,
          runs,
          oneClientStages: stages,
          goals,
        }) + '\n',
      );
      return;
    }
    log(
      '\n| mode | clients | req/s | p50 ms | p99 ms | failures | server CPU ms/req | autocannon CPU ms/req |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const r of runs)
      log(
        `| ${r.mode} | ${r.clients} | ${r.reqPerS.toFixed(1)} | ${r.p50} | ${r.p99} | ${r.failures} | ${r.serverCpuMs.toFixed(2)} | ${r.clientCpuMs.toFixed(2)} |`,
      );
    const sat = runs.find((r) => r.mode === 'batching on' && r.reqPerS === saturated);
    if (sat)
      log(
        `\nAt saturation autocannon took ${((100 * sat.clientCpuMs) / (sat.clientCpuMs + sat.serverCpuMs)).toFixed(1)}% of the CPU time the two used.`,
      );
    if (stages)
      log(
        `One client, sequential (median of ${quick ? 7 : 57}): ${stages.total.toFixed(2)} ms a request; the server's stages: decode ` +
          `${stages.decode.toFixed(2)}, queue ${stages.queue.toFixed(2)}, infer ${stages.infer.toFixed(2)} ms; the rest (HTTP both ends) ` +
          `${(stages.total - stages.decode - stages.queue - stages.infer).toFixed(2)} ms.`,
      );
    log('');
    for (const g of goals) {
      const met = g.atMost ? g.value <= g.target : g.value >= g.target;
      log(`${met ? 'met    ' : 'NOT MET'}  ${g.goal}: ${g.value.toFixed(2)}${g.atMost ? ' ms' : '×'}`);
    }
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

await main();
