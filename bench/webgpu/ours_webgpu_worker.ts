// The "ours" side of the WebGPU benchmark, in a dedicated Worker (the webgpu backend's reads block
// with Atomics.wait, which a page's main thread may not): it imports the library's browser bundle
// by URL, loads the webgpu backend (its GPU worker beside the bundle), and times torchvision AlexNet
// inference (logits read back each run) and an alexnet-v1 training step (the loss read back) with
// the library's own model, loss and SGD — what bench/browser/ours_worker.ts does on wasm. The init
// names the precision: f32, or f16 weights (the same model and steps, the backend reads f16 copies).
import type { Backend } from '../../src/backend/backend.js';
import type * as Library from '../../src/index.js';
import { TORCHVISION_SEED, TRAIN_SEED, benchInput } from '../browser/protocol.js';
import type { OursGpuReply, OursGpuRequest } from './protocol.js';

/** What the benchmark uses of the bundle: the Node API's names plus the webgpu backend's loader. */
type OursLibrary = Pick<
  typeof Library,
  'createModel' | 'setBackend' | 'Generator' | 'Tensor' | 'noGrad' | 'tidy' | 'crossEntropy' | 'SGD'
> & {
  loadWebGpuBackend?: (opts?: { precision?: 'f32' | 'f16' }) => Promise<Backend & { f16Weights?: string | null }>;
};

let lib: OursLibrary | null = null;
let info = '';

function library(): OursLibrary {
  if (lib === null) throw new Error('ours worker: init first');
  return lib;
}

function time(warmup: number, iters: number, run: () => void): number[] {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return times;
}

async function handle(req: OursGpuRequest): Promise<OursGpuReply> {
  if (req.cmd === 'init') {
    lib = (await import(/* @vite-ignore */ req.libUrl)) as OursLibrary;
    if (typeof lib.loadWebGpuBackend !== 'function')
      throw new Error(`${req.libUrl} exports no loadWebGpuBackend (the bundle predates the webgpu backend)`);
    const backend = await lib.loadWebGpuBackend({ precision: req.precision });
    lib.setBackend(backend);
    // The adapter this worker's navigator.gpu gives, which the backend's GPU worker asks for the same way.
    const adapter = await (self.navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
    info = adapter ? `${adapter.info.vendor} ${adapter.info.architecture}`.trim() : '?';
    if (backend.f16Weights) info += ` (f16 weights: ${backend.f16Weights})`;
    return { ok: true, times: [], logits: [], info };
  }
  const L = library();
  if (req.cmd === 'infer') {
    const model = L.createModel('alexnet', { rng: new L.Generator(TORCHVISION_SEED) });
    model.eval();
    const x = L.Tensor.fromArray(benchInput(req.batch, 3, 224, 224), [req.batch, 3, 224, 224]);
    let logits: number[] = [];
    const times = time(req.warmup, req.iters, () =>
      L.noGrad(() =>
        L.tidy(() => {
          logits = Array.from(model.forward(x).toArray().subarray(0, 1000));
        }),
      ),
    );
    x.dispose();
    model.parameters().forEach((p) => p.dispose());
    return { ok: true, times, logits, info };
  }
  const model = L.createModel('alexnet-v1', { inputSize: req.size, rng: new L.Generator(TRAIN_SEED) });
  model.train();
  const x = L.Tensor.fromArray(benchInput(req.batch, 3, req.size, req.size), [req.batch, 3, req.size, req.size]);
  const labels = Int32Array.from({ length: req.batch }, (_, i) => (i * 37) % model.numClasses);
  const opt = new L.SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  const times = time(req.warmup, req.iters, () => {
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

self.onmessage = (e: MessageEvent<OursGpuRequest>) => {
  handle(e.data).then(
    (reply) => self.postMessage(reply),
    (err: unknown) =>
      self.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies OursGpuReply),
  );
};
