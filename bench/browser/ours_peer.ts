// Page side of "ours": drives ours_worker.js (the library's wasm backend in a Worker) and turns its
// replies into a PeerResult.
import { median, type BenchConfig, type OursReply, type OursRequest, type PeerResult } from './protocol.js';

function ask(worker: Worker, req: OursRequest): Promise<OursReply & { ok: true }> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<OursReply>) => (e.data.ok ? resolve(e.data) : reject(new Error(e.data.error)));
    worker.onerror = (e) => reject(new Error(`ours worker: ${e.message}`));
    worker.postMessage(req);
  });
}

export async function runOurs(cfg: BenchConfig, libUrl: string): Promise<PeerResult> {
  const result: PeerResult = {
    peer: 'ours (wasm backend)',
    threads: String(cfg.threads),
    latencyMs: null,
    throughput: null,
    trainMs: null,
    notes: [],
    logits: [],
  };
  const worker = new Worker('/bench/ours_worker.js', { type: 'module' });
  try {
    const init = await ask(worker, { cmd: 'init', libUrl, threads: cfg.threads, relaxed: cfg.relaxed });
    result.notes.push(init.info);
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
