// ONNX Runtime Web 1.30 (wasm execution provider, SIMD, numThreads as asked) on the ONNX file our
// exporter wrote for the same torchvision AlexNet weights. ORT Web 1.30 ships no training API.
import * as ort from 'onnxruntime-web/wasm';
import { benchInput, median, type BenchConfig, type PeerResult } from './protocol.js';

async function timeRuns(
  session: ort.InferenceSession,
  batch: number,
  warmup: number,
  iters: number,
): Promise<{ ms: number; first: number[] }> {
  const input = ortInput(batch);
  const feeds = { [session.inputNames[0]!]: input };
  const outName = session.outputNames[0]!;
  let first: number[] = [];
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    const out = await session.run(feeds);
    times.push(performance.now() - t0);
    first = Array.from((out[outName]!.data as Float32Array).subarray(0, 1000));
  }
  return { ms: median(times), first };
}

/** An ORT Web session on the model at `modelUrl`, wasm EP, SIMD, the config's thread count. */
export async function openOrt(cfg: BenchConfig, modelUrl: string): Promise<ort.InferenceSession> {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = cfg.threads;
  ort.env.wasm.simd = true;
  const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
}

/** Milliseconds of one timed run of the session on the shared input. */
export async function timeOrtRun(session: ort.InferenceSession, input: ort.Tensor): Promise<number> {
  const t0 = performance.now();
  await session.run({ [session.inputNames[0]!]: input });
  return performance.now() - t0;
}

export function ortInput(batch: number): ort.Tensor {
  return new ort.Tensor('float32', benchInput(batch, 3, 224, 224), [batch, 3, 224, 224]);
}

export async function runOrt(cfg: BenchConfig, modelUrl: string): Promise<PeerResult> {
  const result: PeerResult = {
    peer: `ONNX Runtime Web ${ort.env.versions.web ?? ''} (wasm)`,
    threads: String(cfg.threads),
    latencyMs: null,
    throughput: null,
    trainMs: null,
    notes: [],
    logits: [],
  };
  try {
    const session = await openOrt(cfg, modelUrl);
    const one = await timeRuns(session, 1, cfg.latencyWarmup, cfg.latencyIters);
    result.latencyMs = one.ms;
    result.logits = one.first;
    const many = await timeRuns(session, cfg.batch, cfg.batchWarmup, cfg.batchIters);
    result.throughput = (cfg.batch * 1000) / many.ms;
    await session.release();
    result.notes.push('training: not offered (onnxruntime-web 1.30 exports InferenceSession only, no TrainingSession)');
  } catch (err) {
    result.notes.push(`failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return result;
}
