// alexnet in the browser (package.json "exports": "browser", bundled by scripts/bundle_browser.ts
// into dist/browser/alexnet.js): the platform-neutral library — tensors and autograd, ops, nn,
// the three models, optim, summary, the .pth/safetensors/.npy readers and writers on bytes —
// with weights loaded from an ArrayBuffer, a Blob/File or a URL and saved to a Blob, and the wasm
// and webgpu backends' loaders (call loadWebGpuBackend in a Worker: its reads block). Nothing here
// reaches a Node built-in (test/browser_core.test.ts checks the bundle); Node's entry is index.ts.
import { loadWebGpuBackend as loadWebGpu, type WebGpuBackend, type WebGpuOptions } from './backend/webgpu/index.js';

export type { Backend, DType, FloatArray, Precision, Shape, Storage } from './backend/backend.js';
export {
  BACKEND_NAMES,
  defaultBackendName,
  getBackend,
  referenceBackend,
  setBackend,
  type BackendName,
  type BackendOptions,
} from './backend/registry.js';
export { loadWasmBackend, type WasmBackend, type WasmOptions } from './backend/wasm/index.js';
export { DataError, DeviceError, ShapeError, UsageError } from './errors.js';
export { ARCHS, AlexNet, createModel, isArchName, paperInit, type ArchName, type ModelOptions } from './models/index.js';
export * as nn from './nn/index.js';
export * from './ops/index.js';
export * from './optim/index.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export { summary, summaryRows, type SummaryOptions } from './summary/summary.js';
export { isGradEnabled, keep, liveTensorCount, noGrad, Tensor, tidy, type BackwardOptions, type TensorOptions } from './tensor.js';
export * as io from './io/neutral.js';
export * as quant from './quant/neutral.js';
export {
  encodeNpy,
  encodePth,
  encodeSafetensors,
  encodeWeights,
  inferArch,
  loadModel,
  loadWeightsFrom,
  modelFromWeights,
  parseNpy,
  parsePth,
  parseSafetensors,
  readPth,
  readSafetensors,
  readWeightsBytes,
  saveWeightsBlob,
  weightsBytes,
  type LoadModelOptions,
  type WeightsSource,
} from './io/neutral.js';
export type { WebGpuBackend, WebGpuOptions };

/**
 * The webgpu backend, its GPU worker found beside the bundle (webgpu_worker.js, put there by
 * scripts/bundle_browser.mjs and bundle_web.js). Rejects where navigator.gpu gives no adapter.
 */
export function loadWebGpuBackend(opts: WebGpuOptions = {}): Promise<WebGpuBackend> {
  return loadWebGpu({ workerUrl: new URL('./webgpu_worker.js', import.meta.url), ...opts });
}
