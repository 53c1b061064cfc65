// ONNX Runtime Web 1.30 with its WebGPU execution provider on the ONNX file our exporter wrote for
// the same torchvision AlexNet weights (bench/browser's assets). Each run feeds a CPU tensor and
// reads the logits back, as our backend and TF.js do. ORT Web 1.30 ships no training API.
import * as ort from 'onnxruntime-web/webgpu';
import { benchInput, median } from '../browser/protocol.js';
import type { GpuBenchConfig, GpuPeerResult } from './protocol.js';

async function timeRuns(
  session: ort.InferenceSession,
  batch: number,
  warmup: number,
  iters: number,
): Promise<{ ms: number; first: number[] }> {
  const input = new ort.Tensor('float32', benchInput(batch, 3, 224, 224), [batch, 3, 224, 224]);
  const feeds = { [session.inputNames[0]!]: input };
  const outName = session.outputNames[0]!;
  let first: number[] = [];
  for (let i = 0; i < warmup; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    const out = await session.run(feeds);
    const logits = (await out[outName]!.getData()) as Float32Array;
    times.push(performance.now() - t0);
    first = Array.from(logits.subarray(0, 1000));
  }
  return { ms: median(times), first };
}

export async function runOrtWebGpu(cfg: GpuBenchConfig, modelUrl: string): Promise<GpuPeerResult> {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1; // the graph runs on the GPU; the wasm side only schedules it
  const result: GpuPeerResult = {
    peer: `ONNX Runtime Web ${ort.env.versions.web ?? ''} (WebGPU EP)`,
    adapter: '',
    latencyMs: null,
    throughput: null,
    trainMs: null,
    notes: [],
    logits: [],
  };
  try {
    const bytes = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
    // ORT keeps the device it made; GPUDevice.adapterInfo names its adapter.
    const device = (await (ort.env.webgpu.device as unknown as Promise<GPUDevice> | undefined)) ?? null;
    const info = (device as (GPUDevice & { adapterInfo?: GPUAdapterInfo }) | null)?.adapterInfo;
    result.adapter = info ? `${info.vendor} ${info.architecture}`.trim() : '?';
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
