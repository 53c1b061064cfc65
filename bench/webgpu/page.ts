// The WebGPU benchmark's page script: reports the adapter navigator.gpu gives, then runs each peer
// in turn (never two at once) with the config the Node runner passes to window.runGpuBench: ours
// in a Worker (its reads block; 'ours-f16' with f16 weights), ONNX Runtime Web and TF.js on the
// page's thread.
import { median } from '../browser/protocol.js';
import { probeAdapter } from '../../test/webgpu_browser_adapter.js';
import { runOrtWebGpu } from './ort_webgpu_peer.js';
import type { GpuBenchConfig, GpuBenchReport, GpuPeerResult, OursGpuPrecision, OursGpuReply, OursGpuRequest } from './protocol.js';
import { runTfjsWebGpu } from './tfjs_webgpu_peer.js';

declare global {
  interface Window {
    runGpuBench(cfg: GpuBenchConfig, peers: string[]): Promise<GpuBenchReport>;
  }
}

function ask(worker: Worker, req: OursGpuRequest): Promise<OursGpuReply & { ok: true }> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<OursGpuReply>) => (e.data.ok ? resolve(e.data) : reject(new Error(e.data.error)));
    worker.onerror = (e) => reject(new Error(`ours worker: ${e.message}`));
    worker.postMessage(req);
  });
}

async function runOurs(cfg: GpuBenchConfig, libUrl: string, precision: OursGpuPrecision): Promise<GpuPeerResult> {
  const result: GpuPeerResult = {
    peer: precision === 'f16' ? 'ours (webgpu backend, f16 weights)' : 'ours (webgpu backend)',
    adapter: '',
    latencyMs: null,
    throughput: null,
    trainMs: null,
    notes: [],
    logits: [],
  };
  const worker = new Worker('/bench/ours_webgpu_worker.js', { type: 'module' });
  try {
    result.adapter = (await ask(worker, { cmd: 'init', libUrl, precision })).info;
    const one = await ask(worker, { cmd: 'infer', batch: 1, warmup: cfg.latencyWarmup, iters: cfg.latencyIters });
    result.latencyMs = median(one.times);
    result.logits = one.logits;
    const many = await ask(worker, { cmd: 'infer', batch: cfg.batch, warmup: cfg.batchWarmup, iters: cfg.batchIters });
    result.throughput = (cfg.batch * 1000) / median(many.times);
    const train = await ask(worker, {
      cmd: 'train',
      batch: cfg.trainBatch,
      size: cfg.trainSize,
      warmup: cfg.batchWarmup,
      iters: cfg.batchIters,
    });
    result.trainMs = median(train.times);
  } catch (err) {
    result.notes.push(`failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  } finally {
    worker.terminate();
  }
  return result;
}

window.runGpuBench = async (cfg, peers) => {
  const adapter = await probeAdapter();
  const results: GpuPeerResult[] = [];
  if ('none' in adapter) return { adapter, results };
  for (const peer of peers) {
    console.log(`bench:webgpu: ${peer}…`); // progress on the runner's stderr
    const lib = new URL('/lib/alexnet.js', location.origin).href;
    if (peer === 'ours') results.push(await runOurs(cfg, lib, 'f32'));
    if (peer === 'ours-f16') results.push(await runOurs(cfg, lib, 'f16'));
    if (peer === 'ort') results.push(await runOrtWebGpu(cfg, '/assets/alexnet.onnx'));
    if (peer === 'tfjs') results.push(await runTfjsWebGpu(cfg, '/assets/weights.bin', '/assets/weights.json'));
  }
  return { adapter, results };
};
