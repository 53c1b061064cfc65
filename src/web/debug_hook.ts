// window.__alexnet: what the page shows, as data, for tests and benchmarks (documented in
// docs/WEB.md). `ready` resolves once the engine is up; `last` is the latest classification
// (logits, the preprocessed input [C, H, W], its shape and timings); `train` the loss and accuracy
// per step of the latest training; `model` what is loaded; `engine` the worker's client;
// `backend` the engine's backend ('webgpu' where navigator.gpu gives an adapter, else 'wasm', or
// 'reference' where WebAssembly did not load) and `adapter` the WebGPU adapter's name;
// `readyAt` when the start-up work (?weights=, ?sample=) was done, in ms since navigation.
import type { Engine } from './engine_client.js';
import type { Classification, ModelInfo, TrainProgress } from './protocol.js';

export interface DebugHook {
  ready: Promise<void>;
  engine: Engine;
  /** The backend the engine computes on, once `ready`: 'webgpu', 'wasm' or 'reference'. */
  backend: string;
  /** The WebGPU adapter the webgpu backend computes on ('google swiftshader'), else null. */
  adapter: string | null;
  model: Omit<ModelInfo, 'filters'> | null;
  last: (Classification & { shape: number[]; top5: { index: number; name: string; probability: number }[] }) | null;
  train: TrainProgress[];
  /** Increases each time something the page shows changed (a model, a classification, a step). */
  version: number;
  /** When `ready` resolved: milliseconds since the page began to load (performance.now()). */
  readyAt: number | null;
}

export function installDebugHook(hook: DebugHook): DebugHook {
  (window as unknown as { __alexnet: DebugHook }).__alexnet = hook;
  return hook;
}
