// window.__alexnet: what the page shows, as data, for tests and benchmarks (documented in
// docs/WEB.md). `ready` resolves once the engine is up; `last` is the latest classification
// (logits, the preprocessed input [C, H, W], its shape and timings); `train` the loss and accuracy
// per step of the latest training; `model` what is loaded; `engine` the worker's client;
// `backend` the engine's backend ('wasm', or 'reference' where WebAssembly did not load);
// `readyAt` when the start-up work (?weights=, ?sample=) was done, in ms since navigation.
import type { Engine } from './engine_client.js';
import type { Classification, ModelInfo, TrainProgress } from './protocol.js';

export interface DebugHook {
  ready: Promise<void>;
  engine: Engine;
  /** The backend the engine computes on, once `ready`. */
  backend: string;
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
