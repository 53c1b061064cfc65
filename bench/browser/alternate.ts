// Batch-1 latency of ours against ONNX Runtime Web in one run, alternating: both models stay loaded
// and each round times one forward of each, the order swapped every round, after a short idle gap
// (so that neither starts while the other's threads still spin down). A noisy moment then falls
// on both peers alike; the ratio reported is the median of the rounds' ours/ORT ratios.
import { openOrt, ortInput, timeOrtRun } from './ort_peer.js';
import { OursWorker } from './ours_peer.js';
import { median, type AlternateResult, type BenchConfig } from './protocol.js';

const GAP_MS = 20;

const idle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runAlternating(cfg: BenchConfig, libUrl: string, modelUrl: string): Promise<AlternateResult> {
  const worker = new OursWorker();
  try {
    await worker.init(cfg, libUrl);
    const session = await openOrt(cfg, modelUrl);
    const input = ortInput(1);
    const ours = async () => (await worker.ask({ cmd: 'infer', batch: 1, warmup: 0, iters: 1 })).times[0]!;
    const ort = () => timeOrtRun(session, input);
    for (let i = 0; i < cfg.latencyWarmup; i++) {
      await ours();
      await ort();
    }
    const oursMs: number[] = [];
    const ortMs: number[] = [];
    for (let r = 0; r < cfg.alternateRounds; r++) {
      for (const first of r % 2 === 0 ? ['ours', 'ort'] : ['ort', 'ours']) {
        await idle(GAP_MS);
        if (first === 'ours') oursMs.push(await ours());
        else ortMs.push(await ort());
      }
    }
    await session.release();
    return {
      rounds: cfg.alternateRounds,
      oursMs: median(oursMs),
      ortMs: median(ortMs),
      ratio: median(oursMs.map((t, i) => t / ortMs[i]!)),
      notes: [],
    };
  } catch (err) {
    return {
      rounds: 0,
      oursMs: null,
      ortMs: null,
      ratio: null,
      notes: [`failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`],
    };
  } finally {
    worker.terminate();
  }
}
