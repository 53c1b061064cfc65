// The engine worker: holds the model and does all the computing (loading weights, classifying,
// feature maps, training) off the page's thread, so the page never freezes and a WebAssembly
// or WebGPU backend may block on Atomics.wait here. Requests and replies are in ../protocol.ts.
import type { Backend } from '../../backend/backend.js';
import { setBackend } from '../../backend/registry.js';
import { ReferenceBackend } from '../../backend/reference/index.js';
import { loadWasmBackend } from '../../backend/wasm/index.js';
import { loadWebGpuBackend } from '../../browser.js';
import { DataError, UsageError } from '../../errors.js';
import { encodePth } from '../../io/pth/writer.js';
import { stateDictArrays } from '../../io/state_dict.js';
import type { AlexNet } from '../../models/alexnet_base.js';
import { summary } from '../../summary/summary.js';
import type { Classification, FeatureMaps, ModelInfo, Reply, Request, Results } from '../protocol.js';
import { loadFashionMnist } from './fashion_data.js';
import { filterGrid, forwardKeepingMaps, layersOf } from './inspect.js';
import { decodeBlob, preprocessRgba } from './preprocess.js';
import { TrainSession, TRAIN_ARCH } from './train_session.js';
import { modelFromBytes, randomModel } from './weights.js';

// The backend: WebGPU where navigator.gpu gives an adapter, else WebAssembly (SIMD128, on Web
// Workers over shared memory where the page is cross-origin isolated), else the plain TypeScript
// reference backend. Why WebGPU is not used is said once, on the console and in the page's
// backend line.
let backend: Backend = setBackend(new ReferenceBackend());

/** The adapter navigator.gpu gives this worker ('google swiftshader'), or why there is none. */
async function webGpuAdapter(): Promise<{ name: string } | { why: string }> {
  const gpu = (self.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { why: 'this browser has no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { why: 'navigator.gpu gave no adapter' };
    const { vendor, architecture, description } = adapter.info;
    return { name: [vendor, architecture, description].filter(Boolean).join(' ') || 'an unnamed adapter' };
  } catch (err) {
    return { why: `navigator.gpu.requestAdapter() failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

async function chooseBackend(): Promise<Results['init']> {
  const gpu = await webGpuAdapter();
  let why: string;
  if ('name' in gpu) {
    try {
      backend = setBackend(await loadWebGpuBackend());
      return { backend: backend.name, adapter: gpu.name };
    } catch (err) {
      why = `the webgpu backend did not start on ${gpu.name} (${err instanceof Error ? err.message : String(err)})`;
    }
  } else why = gpu.why;
  try {
    backend = setBackend(await loadWasmBackend());
    console.info(`alexnet: WebGPU is not used: ${why}; the model runs on the wasm backend.`);
    return { backend: backend.name, noGpu: why };
  } catch (err) {
    const wasmWhy = err instanceof Error ? err.message : String(err);
    console.info(`alexnet: WebGPU is not used: ${why}; WebAssembly did not load either (${wasmWhy}).`);
    return {
      backend: backend.name,
      noGpu: why,
      note: `The WebAssembly backend did not load (${wasmWhy}): the model runs on the plain TypeScript backend.`,
    };
  }
}

let model: AlexNet | null = null;
let info: ModelInfo | null = null;
let maps: FeatureMaps[] = [];
let stopRequested = false;
let data: Promise<{ images: Uint8Array; labels: Uint8Array }> | null = null;

function describe(m: AlexNet, source: string, loadMs = 0): ModelInfo {
  const [inChannels, inputSize] = [m.inputShape[0], m.inputShape[1]];
  return {
    arch: m.arch,
    inChannels,
    numClasses: m.numClasses,
    inputSize,
    source,
    loadMs,
    summary: summary(m, [...m.inputShape]),
    filters: filterGrid(m),
    layers: layersOf(m)
      .filter((l) => l.shape.length === 3)
      .map(({ name, shape }) => ({ name, shape })),
  };
}

function useModel(m: AlexNet, source: string, loadMs = 0): ModelInfo {
  model?.parameters().forEach((p) => p.dispose());
  model = m;
  maps = [];
  info = describe(m, source, loadMs);
  return info;
}

function current(): AlexNet {
  if (!model) throw new UsageError('no model yet: choose an architecture and load weights or start from random weights');
  return model;
}

async function classify(image: Blob): Promise<Classification> {
  const m = current();
  const t0 = performance.now();
  const { rgba, width, height } = await decodeBlob(image, image instanceof File ? image.name : 'the image');
  const input = preprocessRgba(rgba, width, height, m.inputShape[0], m.inputShape[1]);
  const t1 = performance.now();
  const out = forwardKeepingMaps(m, input);
  maps = out.maps;
  return { logits: out.logits, input, preprocessMs: t1 - t0, forwardMs: performance.now() - t1 };
}

async function train(settings: TrainSession['settings'], steps: number): Promise<Results['train']> {
  data ??= loadFashionMnist();
  let loaded: { images: Uint8Array; labels: Uint8Array };
  try {
    loaded = await data;
  } catch (err) {
    data = null; // let a later try fetch again
    throw err;
  }
  stopRequested = false;
  const session = new TrainSession(loaded.images, loaded.labels, settings);
  useModel(session.model, `${TRAIN_ARCH} trained in the page`);
  let done = 0;
  while (done < steps && !stopRequested) {
    const t0 = performance.now();
    const r = session.step();
    done = r.step;
    post({ id: -1, event: 'trainStep', progress: { step: r.step, loss: r.loss, accuracy: r.accuracy, ms: performance.now() - t0 } });
    // One turn of the event loop per step, so that a 'stop' request is seen.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  session.model.eval();
  info = describe(session.model, `${TRAIN_ARCH} trained in the page (${done} steps)`);
  return { steps: done, stopped: done < steps, info };
}

async function handle(req: Request): Promise<Results[keyof Results]> {
  switch (req.type) {
    case 'init':
      return chooseBackend();
    case 'model': {
      const w = req.weights;
      const t0 = performance.now();
      const { model: m, source } =
        w.kind === 'random'
          ? { model: randomModel(req.arch, w.seed), source: `random weights (seed ${w.seed})` }
          : modelFromBytes(new Uint8Array(w.bytes), w.name, req.arch);
      return useModel(m, source, performance.now() - t0);
    }
    case 'classify':
      return classify(req.image);
    case 'features': {
      const m = maps[req.layer];
      if (!m)
        throw new UsageError(
          maps.length ? `no layer ${req.layer}` : 'classify an image first: feature maps are those of the current image',
        );
      return m;
    }
    case 'train':
      return train(req.settings, req.steps);
    case 'stop':
      stopRequested = true;
      return null;
    case 'download':
      return { chunks: encodePth(stateDictArrays(current())) };
  }
}

function post(reply: Reply): void {
  (self as unknown as { postMessage(m: Reply): void }).postMessage(reply);
}

self.onmessage = (e: MessageEvent<{ id: number; request: Request }>) => {
  const { id, request } = e.data;
  handle(request).then(
    (result) => post({ id, ok: true, result }),
    (err: unknown) => {
      const kind = err instanceof UsageError ? 'usage' : err instanceof DataError ? 'data' : 'internal';
      const message =
        err instanceof Error ? (kind === 'internal' ? `internal error: ${err.stack ?? err.message}` : err.message) : String(err);
      post({ id, ok: false, error: message, kind });
    },
  );
};
