// Worker-thread entry of the DataLoader: rebuilds the dataset from its spec, then turns batch
// tasks into packed batches, one task at a time, transferring the pixel buffer back. Before
// each sample it stores the sample's index in a shared slot, so that if this thread dies the
// main thread can name the file it was working on.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { processBatch } from './batch.js';
import type { DatasetSpec } from './dataset.js';
import { openDataset } from './open_dataset.js';
import type { TransformSpec } from './transforms.js';

export interface WorkerInit {
  dataset: DatasetSpec;
  transforms: TransformSpec[];
  seed: number;
  /** Int32Array over a SharedArrayBuffer: [0] = index of the sample in progress (-1: none). */
  status: Int32Array;
}

export interface WorkerTask {
  id: number;
  epoch: number;
  indices: Int32Array;
  /** A released batch buffer to fill again, if the loader has one. */
  scratch?: ArrayBuffer;
}

export type WorkerReply =
  { id: number; ok: true; result: import('./batch.js').BatchResult } | { id: number; ok: false; message: string; path: string | null };

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('src/data/worker.js must run as a worker thread');
const dataset = openDataset(init.dataset);
// Parallelism comes from the workers: one libvips thread each, and no operation cache (every
// file is decoded once per epoch, so caching only costs memory).
sharp.concurrency(1);
sharp.cache(false);
// Test hook: die (as a native crash would) when reaching a file whose path contains this text.
const crashOn = process.env.ALEXNET_DATA_TEST_CRASH_ON;

const queue: WorkerTask[] = [];
let running = false;

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  while (queue.length > 0) {
    const task = queue.shift() as WorkerTask;
    let reply: WorkerReply;
    try {
      const result = await processBatch(
        dataset,
        init.transforms,
        task.indices,
        init.seed,
        task.epoch,
        (index) => {
          Atomics.store(init.status, 0, index);
          if (crashOn && dataset.sourceOf(index).includes(crashOn)) process.exit(70);
        },
        task.scratch,
      );
      reply = { id: task.id, ok: true, result };
      Atomics.store(init.status, 0, -1);
      port?.postMessage(reply, [result.x.buffer as ArrayBuffer]);
      continue;
    } catch (err) {
      const path = err instanceof Error && 'path' in err && typeof err.path === 'string' ? err.path : null;
      reply = { id: task.id, ok: false, message: err instanceof Error ? err.message : String(err), path };
    }
    Atomics.store(init.status, 0, -1);
    port?.postMessage(reply);
  }
  running = false;
}

port.on('message', (task: WorkerTask) => {
  queue.push(task);
  void drain();
});
