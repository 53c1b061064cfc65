// The web page (`alexnet web`): choose an architecture and its weights (a file, a URL, cached, or
// random), classify images, read the model's torchsummary table, look at conv1's filters and every
// layer's feature maps, and train alexnet-v1 on Fashion-MNIST. The model lives in the engine worker
// (./engine/worker.ts); this file wires the controls to it.
import type { ArchName } from '../models/alexnet_base.js';
import { ClassifyTab } from './classify_tab.js';
import { installDebugHook } from './debug_hook.js';
import { $, messageOf, setStatus, showMessage } from './dom.js';
import { Engine } from './engine_client.js';
import { InsideTab } from './inside_tab.js';
import type { ModelInfo, WeightsSource } from './protocol.js';
import { TrainTab } from './train_tab.js';
import { missingFeaturesMessage, wasmFeatures } from './wasm_features.js';
import { fetchWeights } from './weights_cache.js';

const engine = new Engine();
let resolveReady: () => void = () => {};
const hook = installDebugHook({
  ready: new Promise((r) => (resolveReady = r)),
  engine,
  backend: '',
  adapter: null,
  model: null,
  last: null,
  train: [],
  version: 0,
  readyAt: null,
});
function markReady(): void {
  hook.readyAt = performance.now();
  resolveReady();
}
const inside = new InsideTab(engine);
const classify = new ClassifyTab(engine, hook, () => void inside.showLayer());
const arch = $<HTMLSelectElement>('arch');

let backendName = '';

function showModel(info: ModelInfo): void {
  const { filters: _filters, ...rest } = info;
  hook.model = rest;
  hook.version++;
  arch.value = info.arch;
  $('summary').textContent = info.summary;
  inside.showModel(info);
  setStatus(
    `${info.arch}: ${info.numClasses} classes, input ${info.inChannels}×${info.inputSize}×${info.inputSize}, ${info.source} (built in ${info.loadMs.toFixed(0)} ms); ${backendName} backend`,
  );
}

new TrainTab(engine, hook, showModel);

async function loadModel(weights: WeightsSource, what: string): Promise<void> {
  showMessage(null);
  setStatus(`Loading ${what}…`);
  try {
    const transfer = weights.kind === 'bytes' ? [weights.bytes] : [];
    showModel(await engine.request({ type: 'model', arch: arch.value as ArchName, weights }, transfer));
  } catch (err) {
    showMessage(messageOf(err));
    setStatus(hook.model ? `${hook.model.arch}: ${hook.model.source}` : 'No model loaded.');
  }
}

$('random').addEventListener('click', () => void loadModel({ kind: 'random', seed: 0 }, 'random weights'));
const weightsFile = $<HTMLInputElement>('weights-file');
weightsFile.addEventListener('change', () => {
  const f = weightsFile.files?.[0];
  if (f) void f.arrayBuffer().then((bytes) => loadModel({ kind: 'bytes', name: f.name, bytes }, f.name));
  weightsFile.value = '';
});
$('load-url').addEventListener('click', () => {
  const url = $<HTMLInputElement>('weights-url').value.trim();
  if (!url) return showMessage('Type the URL of a .pth or .safetensors file first.');
  setStatus(`Fetching ${url}…`);
  fetchWeights(url).then(
    ({ bytes, cached }) => loadModel({ kind: 'bytes', name: url, bytes }, `${url}${cached ? ' (cached)' : ''}`),
    (err: unknown) => {
      showMessage(messageOf(err));
      setStatus('');
    },
  );
});

for (const tab of document.querySelectorAll<HTMLButtonElement>('.tab')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll('.tab')) t.classList.toggle('active', t === tab);
    for (const p of document.querySelectorAll<HTMLElement>('.panel')) p.hidden = p.id !== `tab-${tab.dataset.tab}`;
  });
}

async function start(): Promise<void> {
  const notice = missingFeaturesMessage(wasmFeatures());
  if (notice) {
    $('notice').hidden = false;
    $('notice').textContent = notice;
  }
  // ?arch=NAME chooses the architecture; ?weights=URL loads (and caches) weights at start, read
  // while the engine starts its backend.
  const params = new URLSearchParams(location.search);
  const url = params.get('weights');
  const weights = url ? fetchWeights(url) : null;
  weights?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const init = await engine.request({ type: 'init' });
  backendName = init.backend;
  hook.backend = init.backend;
  hook.adapter = init.adapter ?? null;
  $('backend').textContent = init.adapter
    ? `Backend: webgpu on ${init.adapter}`
    : `Backend: ${init.backend}${init.noGpu ? ` (WebGPU not used: ${init.noGpu})` : ''}`;
  // On WebGPU, what this browser's WebAssembly lacks does not matter.
  if (init.backend === 'webgpu') $('notice').hidden = true;
  else if (init.note && !notice) {
    $('notice').hidden = false;
    $('notice').textContent = init.note;
  }
  const a = params.get('arch');
  if (a) arch.value = a;
  if (url && weights) {
    const { bytes, cached } = await weights;
    await loadModel({ kind: 'bytes', name: url, bytes }, `${url}${cached ? ' (cached)' : ''}`);
  } else setStatus('No model yet: load weights (a file or a URL) or start from random weights.');
  const sample = params.get('sample');
  if (sample) await classify.classifyUrl(`/samples/${sample}.jpg`, `${sample}.jpg`);
  markReady();
}

start().catch((err: unknown) => {
  showMessage(messageOf(err));
  markReady();
});
