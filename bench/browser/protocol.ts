// What the browser benchmark's page and its "ours" worker exchange, and what the page hands back to
// the Node runner (bench/browser/run.ts). Plain data only: it crosses postMessage and page.evaluate.

export interface BenchConfig {
  threads: number;
  /** Load the relaxed-SIMD (FMA) kernels where the engine has relaxed SIMD. */
  relaxed: boolean;
  /** Batch-1 latency: untimed and timed runs (the median is reported). */
  latencyWarmup: number;
  latencyIters: number;
  /** Batch-16 throughput and the training step: untimed and timed runs. */
  batchWarmup: number;
  batchIters: number;
  batch: number;
  trainBatch: number;
  trainSize: number;
  /** Rounds of the alternating batch-1 comparison of ours and ORT Web (one run of each per round). */
  alternateRounds: number;
}

/** The alternating batch-1 comparison: medians of each peer's runs and of the rounds' ratios. */
export interface AlternateResult {
  rounds: number;
  oursMs: number | null;
  ortMs: number | null;
  ratio: number | null;
  notes: string[];
}

/** One peer's measurements; a field is null when the peer could not do it, with the reason in `notes`. */
export interface PeerResult {
  peer: string;
  threads: string;
  latencyMs: number | null;
  throughput: number | null;
  trainMs: number | null;
  notes: string[];
  /** Batch-1 logits of the shared input (the runner checks the peers agree). */
  logits: number[];
}

export type OursRequest =
  | { cmd: 'init'; libUrl: string; threads: number; relaxed: boolean }
  | { cmd: 'infer'; batch: number; warmup: number; iters: number }
  | { cmd: 'train'; batch: number; size: number; warmup: number; iters: number }
  | { cmd: 'profile'; warmup: number; iters: number };

/** `kernels` (profile only): the parallel kernel calls of one batch-1 forward, in order, `times` their median ms. */
export type OursReply = { ok: true; times: number[]; logits: number[]; info: string; kernels?: string[] } | { ok: false; error: string };

/** Where ours spends a batch-1 forward in the browser: each kernel call's median, and the whole forward's. */
export interface ProfileResult {
  kernels: string[];
  ms: number[];
  forwardMs: number | null;
  notes: string[];
}

/** The deterministic input every peer sees: image i of the batch, NCHW. */
export function benchInput(batch: number, c: number, h: number, w: number): Float32Array {
  const x = new Float32Array(batch * c * h * w);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 0.5;
  return x;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const TORCHVISION_SEED = 1;
export const TRAIN_SEED = 2;
