// DataLoader: seeded order, batching, decoding and augmentation in worker threads with
// prefetching, ordered delivery, the broken-input policy, resumable position, clean shutdown.
//
//   const loader = new DataLoader(dataset, { batchSize: 128, shuffle: true, seed: 1, workers: 2,
//                                            transforms: torchvisionPreset('train') });
//   for (let epoch = 0; epoch < 90; epoch++)
//     for await (const b of loader.iterate(epoch)) step(b.x, b.shape, b.y);   // x: [N, C, H, W]
//   await loader.close();
//
// Determinism: epoch e's order depends only on (seed, e); sample i's augmentation only on
// (seed, e, i). So any worker count, prefetch depth or restart gives the same batches, and
// iterate(state.epoch, state.batch) resumes exactly after the last delivered batch.
// A batch can hold fewer than batchSize samples when files in it were skipped as broken.
// Workers are unref'd while idle, so a forgotten close() never keeps the process alive; any
// error (strict broken input, a dead worker, an abort) terminates them before it is thrown.
import { Worker } from 'node:worker_threads';
import { DataError, UsageError } from '../errors.js';
import { processBatch, type BatchResult } from './batch.js';
import { BrokenInputLog } from './broken_inputs.js';
import type { Dataset } from './dataset.js';
import { epochOrder } from './seeds.js';
import { maxWorkers } from './worker_limit.js';
import type { TransformSpec } from './transforms.js';
import type { WorkerInit, WorkerReply, WorkerTask } from './worker.js';

export interface DataLoaderOptions {
  batchSize: number;
  /** Shuffle every epoch (seeded). Default false. */
  shuffle?: boolean;
  /** Seed for order and augmentation. Default 0. */
  seed?: number;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  /** Transforms applied to each sample (see T and the presets). Default: none. */
  transforms?: TransformSpec[];
  /** Worker threads decoding and augmenting; 0 runs everything on the calling thread. Default 0. */
  workers?: number;
  /** Batches in flight per worker (or in total with 0 workers). Default 2. */
  prefetch?: number;
  /** Broken-input policy and log; pass one to share it with the dataset's listing. */
  broken?: BrokenInputLog;
  /** Shortcut for `broken: new BrokenInputLog({ strict })`. */
  strict?: boolean;
  /** Aborting closes the loader; a running iterate() rejects. */
  signal?: AbortSignal;
  /** The dataset indices each epoch visits, in order (a distributed job's shard); replaces `shuffle`'s order. */
  sampler?: { readonly length: number; order(epoch: number): Int32Array };
}

export interface RawBatch {
  dtype: 'float32' | 'uint8';
  /** Float32 [N, C, H, W] (or [N, crops, C, H, W] after TenCrop), or uint8 [N, H, W, C]. */
  x: Float32Array | Uint8Array;
  shape: number[];
  /** Labels [N]. */
  y: Int32Array;
  /** Dataset indices [N]. */
  indices: Int32Array;
  epoch: number;
  /** Position of this batch in the epoch (0-based). */
  batch: number;
  /** Samples skipped as broken since the previous delivered batch (a batch whose samples all failed is not delivered). */
  skipped: number;
  /**
   * Optional: hands x's memory back to the loader to fill again (call when done with x, e.g. after
   * copying it into a tensor; x must not be used afterwards). Saves allocating and page-faulting
   * tens of MB per batch. Without it, batches are simply garbage-collected.
   */
  release(): void;
}

export interface Batch extends RawBatch {
  dtype: 'float32';
  x: Float32Array;
}

/** Where the loader stands: resume with iterate(state.epoch, state.batch). */
export interface LoaderState {
  epoch: number;
  batch: number;
}

interface Task {
  id: number;
  promise: Promise<BatchResult>;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
  indices: Int32Array;
}

interface Slot {
  worker: Worker;
  status: Int32Array;
  inFlight: Map<number, Task>;
  dead: boolean;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

export class DataLoader {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly transforms: TransformSpec[];
  readonly workers: number;
  readonly prefetch: number;
  readonly broken: BrokenInputLog;
  private slots: Slot[] = [];
  /** Buffers of released batches, reused for the next ones. */
  private pool: ArrayBuffer[] = [];
  private readonly poolLimit: number;
  private nextId = 0;
  private position: LoaderState = { epoch: 0, batch: 0 };
  private closed = false;
  private failure: Error | null = null;
  private readonly signal?: AbortSignal;
  private readonly sampler?: DataLoaderOptions['sampler'];

  constructor(dataset: Dataset, options: DataLoaderOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`batchSize must be a positive integer, got ${batchSize}`);
    const workers = options.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be a non-negative integer, got ${workers}`);
    if (workers > maxWorkers()) {
      throw new UsageError(`--workers ${workers} is more than the limit of ${maxWorkers()} data worker threads on this machine`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.seed = options.seed ?? 0;
    this.dropLast = options.dropLast ?? false;
    this.transforms = options.transforms ?? [];
    this.workers = workers;
    this.prefetch = Math.max(1, options.prefetch ?? 2);
    this.broken = options.broken ?? new BrokenInputLog({ strict: options.strict });
    this.signal = options.signal;
    this.sampler = options.sampler;
    this.poolLimit = this.prefetch * Math.max(1, workers) + 2;
    this.signal?.addEventListener('abort', () => void this.fail(new DataError('data loading aborted')), { once: true });
  }

  /** Batches per epoch (before any skipping). */
  get numBatches(): number {
    const n = this.sampler?.length ?? this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The position after the last delivered batch. */
  state(): LoaderState {
    return { ...this.position };
  }

  /** Float batches of `epoch`, from batch `startBatch` on. The transforms must end in toTensor (float). */
  async *iterate(epoch: number, startBatch = 0): AsyncGenerator<Batch> {
    for await (const b of this.iterateRaw(epoch, startBatch)) {
      if (b.dtype !== 'float32') throw new UsageError('the transforms produce 8-bit images: add toTensor() (or use iterateRaw)');
      yield b as Batch;
    }
  }

  /** Batches of `epoch` as the transforms leave them: float32 NCHW or uint8 NHWC. */
  async *iterateRaw(epoch: number, startBatch = 0): AsyncGenerator<RawBatch> {
    if (this.closed) throw new UsageError('DataLoader is closed');
    if (this.failure) throw this.failure;
    const total = this.numBatches;
    const order = this.sampler?.order(epoch) ?? epochOrder(this.dataset.length, this.seed, epoch, this.shuffle);
    const indicesOf = (b: number): Int32Array => order.slice(b * this.batchSize, Math.min((b + 1) * this.batchSize, order.length));
    const maxInFlight = this.prefetch * Math.max(1, this.workers);
    const pending = new Map<number, Task>();
    let next = startBatch;
    let skipped = 0;
    try {
      for (let b = startBatch; b < total; b++) {
        while (next < total && pending.size < maxInFlight) {
          pending.set(next, this.dispatch(epoch, indicesOf(next)));
          next++;
        }
        const task = pending.get(b) as Task;
        pending.delete(b);
        const result = await task.promise;
        if (this.failure) throw this.failure;
        for (const f of result.failures) this.broken.report({ path: f.path, kind: f.kind, message: f.message });
        this.position = { epoch, batch: b + 1 };
        skipped += result.failures.length;
        if (result.y.length === 0) continue; // every sample broken: nothing to deliver
        const buffer = result.x.buffer as ArrayBuffer;
        let released = false;
        yield {
          dtype: result.dtype,
          x: result.x,
          shape: [result.y.length, ...result.sampleShape],
          y: result.y,
          indices: result.indices,
          epoch,
          batch: b,
          skipped,
          release: () => {
            if (released) return;
            released = true;
            if (buffer.byteLength > 0 && this.pool.length < this.poolLimit) this.pool.push(buffer);
          },
        };
        skipped = 0;
      }
      this.position = { epoch: epoch + 1, batch: 0 };
    } catch (err) {
      await this.fail(err instanceof Error ? err : new Error(String(err)));
      throw this.failure ?? err;
    }
    // Leaving early (break) needs nothing: in-flight results are simply not awaited.
  }

  private dispatch(epoch: number, indices: Int32Array): Task {
    const id = this.nextId++;
    let resolve!: (r: BatchResult) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<BatchResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => undefined); // a task abandoned by a finished iteration must not be an unhandled rejection
    const task: Task = { id, promise, resolve, reject, indices };
    const scratch = this.pool.pop();
    if (this.workers === 0) {
      processBatch(this.dataset, this.transforms, indices, this.seed, epoch, undefined, scratch).then(resolve, (err: unknown) =>
        reject(new DataError(err instanceof Error ? err.message : String(err))),
      );
      return task;
    }
    if (this.slots.length === 0) this.startWorkers();
    // The least busy worker (there is at least one: workers > 0).
    const slot = this.slots.reduce((best, s) => (s.inFlight.size < best.inFlight.size ? s : best));
    slot.inFlight.set(id, task);
    slot.worker.ref();
    const message: WorkerTask = { id, epoch, indices, scratch };
    slot.worker.postMessage(message, scratch ? [scratch] : []);
    return task;
  }

  private startWorkers(): void {
    const spec = this.dataset.spec();
    for (let k = 0; k < this.workers; k++) {
      const status = new Int32Array(new SharedArrayBuffer(4));
      status[0] = -1;
      const init: WorkerInit = { dataset: spec, transforms: this.transforms, seed: this.seed, status };
      const worker = new Worker(WORKER_URL, { workerData: init, execArgv: workerExecArgv() });
      const slot: Slot = { worker, status, inFlight: new Map(), dead: false };
      worker.unref();
      worker.on('message', (reply: WorkerReply) => {
        const task = slot.inFlight.get(reply.id);
        if (!task) return;
        slot.inFlight.delete(reply.id);
        if (slot.inFlight.size === 0) worker.unref();
        if (reply.ok) task.resolve(reply.result);
        else task.reject(new DataError(reply.message));
      });
      worker.on('error', (err) => this.workerDied(k, slot, err.message));
      worker.on('exit', (code) => {
        if (!slot.dead) this.workerDied(k, slot, `exited with code ${code}`);
      });
      this.slots.push(slot);
    }
  }

  private workerDied(k: number, slot: Slot, reason: string): void {
    if (slot.dead) return;
    slot.dead = true;
    if (this.closed || slot.inFlight.size === 0) return;
    const index = Atomics.load(slot.status, 0);
    const where = index >= 0 ? this.dataset.sourceOf(index) : 'no file (between samples)';
    const error = new DataError(`data worker ${k} died (${reason}) while loading ${where}`);
    void this.fail(error);
  }

  /** Records the first error, rejects everything in flight, and stops the workers. */
  private async fail(error: Error): Promise<void> {
    if (!this.failure) this.failure = error;
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) {
      s.dead = true;
      for (const t of s.inFlight.values()) t.reject(this.failure);
      s.inFlight.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  /** Stops the workers (the dataset stays open: close it yourself). Safe to call more than once. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots;
    this.slots = [];
    for (const s of slots) {
      s.dead = true;
      for (const t of s.inFlight.values()) t.reject(new DataError('DataLoader closed'));
      s.inFlight.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/** The parent's Node options minus those about the main script (node --input-type=module -e …), which break a worker. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const rest = [...process.execArgv];
  for (let a = rest.shift(); a !== undefined; a = rest.shift()) {
    if (a.startsWith('--input-type')) continue;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      rest.shift(); // and its code argument
      continue;
    }
    if (/^--(eval|print)=/.test(a)) continue;
    out.push(a);
  }
  return out;
}
