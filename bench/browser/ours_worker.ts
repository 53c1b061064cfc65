// The "ours" side of the browser benchmark, in a dedicated Worker (the wasm backend waits for its
// threads with Atomics.wait, which a page's main thread may not): it imports the library's browser
// bundle by URL, loads the wasm backend with the asked thread count, and times torchvision AlexNet
// inference and an alexnet-v1 training step with the library's own model, loss and SGD, or profiles
// a batch-1 forward kernel call by kernel call (the thread pool's run, timed around each call).
import type { Backend } from '../../src/backend/backend.js';
import type * as Library from '../../src/index.js';
import { relaxedSimdSupported } from './relaxed_simd.js';
import { TORCHVISION_SEED, TRAIN_SEED, benchInput, median, type OursReply, type OursRequest } from './protocol.js';

/** What the benchmark uses of the bundle: the Node API's names plus the wasm backend's loader. */
type OursLibrary = Pick<
  typeof Library,
  'createModel' | 'setBackend' | 'Generator' | 'Tensor' | 'noGrad' | 'tidy' | 'crossEntropy' | 'SGD'
> & {
  loadWasmBackend(opts: { threads?: number; wasm?: URL | ArrayBuffer }): Promise<Backend & { pool: KernelPool }>;
};

/** The wasm backend's thread pool, as the profile wraps it. */
interface KernelPool {
  run(name: string, args: number[], nthreads?: number): void;
}

let lib: OursLibrary | null = null;
let pool: KernelPool | null = null;
let info = '';

function library(): OursLibrary {
  if (lib === null) throw new Error('ours worker: init first');
  return lib;
}

async function time(warmup: number, iters: number, run: () => void): Promise<number[]> {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return times;
}

type Model = ReturnType<OursLibrary['createModel']>;
type Input = ReturnType<OursLibrary['Tensor']['fromArray']>;
/** torchvision AlexNet in eval mode and the shared input, per batch size: made once, so that the alternating comparison asks for one run at a time. */
const setups = new Map<number, { model: Model; x: Input }>();

function inferenceSetup(L: OursLibrary, batch: number): { model: Model; x: Input } {
  let setup = setups.get(batch);
  if (!setup) {
    const model = L.createModel('alexnet', { rng: new L.Generator(TORCHVISION_SEED) });
    model.eval();
    setup = { model, x: L.Tensor.fromArray(benchInput(batch, 3, 224, 224), [batch, 3, 224, 224]) };
    setups.set(batch, setup);
  }
  return setup;
}

async function handle(req: OursRequest): Promise<OursReply> {
  if (req.cmd === 'init') {
    lib = (await import(/* @vite-ignore */ req.libUrl)) as OursLibrary;
    // The bundle keeps the kernel modules beside alexnet.js; the relaxed build only where it validates.
    const relaxed = req.relaxed && relaxedSimdSupported();
    const file = `alexnet${req.threads > 1 ? '_mt' : ''}${relaxed ? '_relaxed' : ''}.wasm`;
    const backend = await lib.loadWasmBackend({ threads: req.threads, wasm: new URL(file, req.libUrl) });
    lib.setBackend(backend);
    pool = backend.pool;
    info = `${backend.name} backend on ${file} (relaxed SIMD ${relaxedSimdSupported() ? 'available' : 'not available'})`;
    return { ok: true, times: [], logits: [], info };
  }
  const L = library();
  if (req.cmd === 'infer') {
    const { model, x } = inferenceSetup(L, req.batch);
    let logits: number[] = [];
    const times = await time(req.warmup, req.iters, () =>
      L.noGrad(() =>
        L.tidy(() => {
          logits = Array.from(model.forward(x).toArray().subarray(0, 1000));
        }),
      ),
    );
    return { ok: true, times, logits, info };
  }
  if (req.cmd === 'profile') return profile(L, req.warmup, req.iters);
  const model = L.createModel('alexnet-v1', { inputSize: req.size, rng: new L.Generator(TRAIN_SEED) });
  model.train();
  const x = L.Tensor.fromArray(benchInput(req.batch, 3, req.size, req.size), [req.batch, 3, req.size, req.size]);
  const labels = Int32Array.from({ length: req.batch }, (_, i) => (i * 37) % model.numClasses);
  const opt = new L.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  const times = await time(req.warmup, req.iters, () => {
    opt.zeroGrad();
    L.tidy(() => {
      const loss = L.crossEntropy(model.forward(x), labels);
      loss.backward();
      return loss.item();
    });
    opt.step();
  });
  return { ok: true, times, logits: [], info };
}

/** Batch-1 forwards with every kernel call timed; per call, the median over the runs. */
function profile(L: OursLibrary, warmup: number, iters: number): OursReply {
  if (pool === null) throw new Error('ours worker: init first');
  const { model, x } = inferenceSetup(L, 1);
  const forward = () => L.noGrad(() => L.tidy(() => void model.forward(x).toArray()));
  const runs: { name: string; ms: number }[][] = [];
  const totals: number[] = [];
  const target = pool;
  const run = target.run;
  let calls: { name: string; ms: number }[] | null = null;
  target.run = function (name, args, nthreads) {
    const t0 = performance.now();
    run.call(this, name, args, nthreads);
    calls?.push({ name, ms: performance.now() - t0 });
  };
  try {
    for (let i = 0; i < warmup; i++) forward();
    for (let i = 0; i < iters; i++) {
      calls = [];
      const t0 = performance.now();
      forward();
      totals.push(performance.now() - t0);
      runs.push(calls);
    }
  } finally {
    target.run = run;
  }
  const first = runs[0] ?? [];
  return {
    ok: true,
    kernels: first.map((c) => c.name),
    times: [...first.map((_, j) => median(runs.map((r) => r[j]?.ms ?? 0))), median(totals)],
    logits: [],
    info,
  };
}

self.onmessage = (e: MessageEvent<OursRequest>) => {
  handle(e.data).then(
    (reply) => self.postMessage(reply),
    (err: unknown) =>
      self.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies OursReply),
  );
};
