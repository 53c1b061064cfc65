// The messages between the page (main thread) and its engine worker: each request carries an id
// and gets one reply with that id (a result or an error message); training also streams progress
// events. Only plain data and transferable buffers cross.
import type { ArchName } from '../models/alexnet_base.js';
import type { TrainSettings } from './engine/train_session.js';

export type WeightsSource = { kind: 'random'; seed: number } | { kind: 'bytes'; name: string; bytes: ArrayBuffer };

export interface ModelInfo {
  arch: ArchName;
  inChannels: number;
  numClasses: number;
  inputSize: number;
  /** Where the weights came from ('random weights (seed 0)', a file name or a URL). */
  source: string;
  /** torchsummary's table. */
  summary: string;
  /** conv1's filters as one RGBA image (a grid of filters, each scaled to its own range). */
  filters: { width: number; height: number; cols: number; cell: number; rgba: Uint8ClampedArray };
  /** Milliseconds the engine took to build the model (reading the weights included). */
  loadMs: number;
  /** The layers whose output is a stack of feature maps, in forward order. */
  layers: { name: string; shape: number[] }[];
}

export interface Classification {
  logits: Float32Array;
  /** The preprocessed input [C, H, W] the model saw. */
  input: Float32Array;
  /** Milliseconds: preprocessing (decode included) and the forward pass. */
  preprocessMs: number;
  forwardMs: number;
}

export interface FeatureMaps {
  name: string;
  /** [C, H, W] */
  shape: number[];
  data: Float32Array;
}

export interface TrainProgress {
  step: number;
  loss: number;
  accuracy: number;
  ms: number;
}

export type Request =
  | { type: 'init' }
  | { type: 'model'; arch: ArchName; weights: WeightsSource }
  | { type: 'classify'; image: Blob }
  | { type: 'features'; layer: number }
  | { type: 'train'; settings: TrainSettings; steps: number }
  | { type: 'stop' }
  | { type: 'download' };

export interface Results {
  /**
   * The backend the engine computes on ('webgpu', 'wasm' or 'reference'), the WebGPU adapter it
   * uses, why WebGPU is not used, and a note for the page when even wasm did not load.
   */
  init: { backend: string; adapter?: string; noGpu?: string; note?: string };
  model: ModelInfo;
  classify: Classification;
  features: FeatureMaps;
  train: { steps: number; stopped: boolean; info: ModelInfo };
  stop: null;
  download: { chunks: Uint8Array[] };
}

export type Reply =
  | { id: number; ok: true; result: Results[keyof Results] }
  | { id: number; ok: false; error: string; kind: 'usage' | 'data' | 'internal' }
  | { id: -1; event: 'trainStep'; progress: TrainProgress };
