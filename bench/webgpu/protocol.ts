// What the WebGPU benchmark's page, its "ours" worker and the Node runner (run.ts) exchange. Plain
// data only: it crosses postMessage and page.evaluate. The input, the seeds, the median and the
// per-peer result are the browser benchmark's (bench/browser/protocol.ts), so both compare alike.
import type { OursReply, OursRequest, PeerResult } from '../browser/protocol.js';
import type { AdapterReport } from '../../test/webgpu_browser_adapter.js';

export interface GpuBenchConfig {
  /** Batch-1 latency: untimed and timed runs (the median is reported). */
  latencyWarmup: number;
  latencyIters: number;
  /** Batch throughput and the training step: untimed and timed runs. */
  batchWarmup: number;
  batchIters: number;
  batch: number;
  trainBatch: number;
  trainSize: number;
}

/** One peer's measurements (`threads` is unused on the GPU), and the adapter it computed on. */
export type GpuPeerResult = Omit<PeerResult, 'threads'> & { adapter: string };

export interface GpuBenchReport {
  /** The adapter navigator.gpu gives the page (every peer asks it the same way). */
  adapter: AdapterReport;
  results: GpuPeerResult[];
}

/** Our backend's precisions the benchmark times: f32, and f16 weights (docs/WEBGPU.md). */
export type OursGpuPrecision = 'f32' | 'f16';

/** The wasm worker's requests, less its own init and its kernel-by-kernel profile (wasm only). */
export type OursGpuRequest =
  { cmd: 'init'; libUrl: string; precision: OursGpuPrecision } | Exclude<OursRequest, { cmd: 'init' | 'profile' }>;
export type OursGpuReply = OursReply;
