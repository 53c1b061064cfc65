// Page side of "ours": drives ours_worker.js (the library's wasm backend in a Worker) and turns its
// replies into a PeerResult.
import { median, type BenchConfig, type OursReply, type OursRequest, type PeerResult, type ProfileResult } from './protocol.js';

/** The "ours" worker, one request at a time. */
export class OursWorker {
  private readonly worker = new Worker('/bench/ours_worker.js', { type: 'module' });

  ask(req: OursRequest): Promise<OursReply & { ok: true }> {
    return new Promise((resolve, reject) => {
      this.worker.onmessage = (e: MessageEvent<OursReply>) => (e.data.ok ? resolve(e.data) : reject(new Error(e.data.error)));
      this.worker.onerror = (e) => reject(new Error(`ours worker: ${e.message}`));
      this.worker.postMessage(req);
    });
  }

  /** Loads the library's wasm backend as the config asks; returns what it runs on. */
  async init(cfg: BenchConfig, libUrl: string): Promise<string> {
    return (await this.ask({ cmd: 'init', libUrl, threads: cfg.threads, relaxed: cfg.relaxed })).info;
  }

  terminate(): void {
    this.worker.terminate();
  }
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
  const worker = new OursWorker();
  try {
    result.notes.push(await worker.init(cfg, libUrl));
    const one = await worker.ask({ cmd: 'infer', batch: 1, warmup: cfg.latencyWarmup, iters: cfg.latencyIters });
    result.latencyMs = median(one.times);
    result.logits = one.logits;
    const many = await worker.ask({ cmd: 'infer', batch: cfg.batch, warmup: cfg.batchWarmup, iters: cfg.batchIters });
    result.throughput = (cfg.batch * 1000) / median(many.times);
    const train = await worker.ask({
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

/** A batch-1 forward of ours, kernel call by kernel call (median of the config's latency runs). */
export async function profileOurs(cfg: BenchConfig, libUrl: string): Promise<ProfileResult> {
  const worker = new OursWorker();
  try {
    const info = await worker.init(cfg, libUrl);
    const r = await worker.ask({ cmd: 'profile', warmup: cfg.latencyWarmup, iters: cfg.latencyIters });
    const kernels = r.kernels ?? [];
    return { kernels, ms: r.times.slice(0, kernels.length), forwardMs: r.times[kernels.length] ?? null, notes: [info] };
  } catch (err) {
    return { kernels: [], ms: [], forwardMs: null, notes: [`failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`] };
  } finally {
    worker.terminate();
  }
}
