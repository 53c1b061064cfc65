// A small pool of worker threads that decode and preprocess images (./decode_worker.ts), so the
// event loop only moves bytes. Each worker takes one image at a time and writes it into a shared
// slot (./input_slots.ts), which the caller releases once the image is in a batch; images wait in
// a bounded queue (QueueFullError past `maxQueue`), a waiting image whose signal aborts leaves it,
// and a worker that dies fails only its own image and is replaced (one that cannot even start
// fails every image with the reason instead). Plain JPEGs are decoded from this thread instead
// (`maxInline` at a time, waiting in the same queue): their work runs on the libuv pool all the
// same, and the two hops to a worker and back (a quarter of a millisecond of this thread's CPU or
// more per image) are saved; the workers take the formats that decode in JavaScript or sharp.
import { Worker } from 'node:worker_threads';
import { QueueFullError } from './batcher.js';
import type { DecodeInit, DecodeReply, DecodeTask, SlotMessage } from './decode_worker.js';
import { InputSlots, type InputSlot } from './input_slots.js';
import { decodesOffThread, inputFloats, preprocessFailure, preprocessor, type Preprocess } from './preprocess.js';

/** Shared slots are capped at this many bytes (past it, images travel in buffers of their own). */
const SLOT_BYTES = 64 << 20;

/** The image itself is at fault (not an image, broken, too many pixels): `kind` says which. */
export class ImageRejected extends Error {
  override name = 'ImageRejected';
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DecodedInput {
  /** The preprocessed image: [C, H, W] (or [crops, C, H, W]) values, valid until release(). */
  x: Float32Array;
  /** Its shape without the leading batch dimension of 1. */
  shape: number[];
  /** Gives its memory back to the pool (call once the values are copied or no longer wanted). */
  release(): void;
}

interface Job {
  task: DecodeTask;
  slot: InputSlot | null;
  resolve: (d: DecodedInput) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** A plain JPEG, decoded from this thread. */
  inline: boolean;
}

export interface DecodePoolOptions {
  /** Worker threads. */
  workers: number;
  /** Most images waiting for a worker (QueueFullError past it). */
  maxQueue: number;
  /** Most images held in shared memory (default: as many as fit in 64 MiB, at least one per worker). */
  maxSlots?: number;
  /**
   * Most plain JPEGs decoded from this thread at once (default 1: one decodes faster than a
   * batch's forward pass consumes them, and each more is one more thread preempting OpenMP's in
   * the middle of a pass; 0: every image goes to a worker).
   */
  maxInline?: number;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** The worker said it is set up (a worker that exits before that is not replaced). */
  ready: boolean;
}

export class DecodePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Why the workers cannot start (then every decode fails with it, rather than respawning forever). */
  private broken: string | null = null;
  private readonly memory: InputSlots;
  private readonly maxQueue: number;
  /** This thread's own preprocessing (for the inline decodes), how many at most, and under way. */
  private readonly inline: Preprocess | null = null;
  private readonly maxInline: number;
  private inlineActive = 0;
  private inlined = 0;

  constructor(
    private readonly init: DecodeInit,
    opts: DecodePoolOptions,
  ) {
    this.maxQueue = opts.maxQueue;
    this.maxInline = opts.maxInline ?? 1;
    let floats = 0;
    try {
      floats = inputFloats(init);
      if (this.maxInline > 0) this.inline = preprocessor(init);
    } catch {
      // A spec the workers cannot use either: they fail at start and say why (no slots needed).
    }
    const cap = floats === 0 ? 0 : (opts.maxSlots ?? Math.max(opts.workers, Math.floor(SLOT_BYTES / (floats * 4))));
    this.memory = new InputSlots(floats, cap, (id, buffer) => {
      for (const s of this.slots) this.share(s.worker, id, buffer);
    });
    for (let i = 0; i < opts.workers; i++) this.slots.push(this.spawn());
  }

  /** Decoded images whose shared memory is not yet released. */
  get held(): number {
    return this.memory.inUse;
  }

  /** Images decoded from this thread so far (the inline path). */
  get decodedInline(): number {
    return this.inlined;
  }

  /** Images waiting to be decoded. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Decodes and preprocesses `bytes` (`name` is for messages); the bytes are handed over to the worker. */
  decode(bytes: Uint8Array, name: string, signal?: AbortSignal): Promise<DecodedInput> {
    if (this.closed) return Promise.reject(new Error('decode pool: closed'));
    if (this.broken !== null) return Promise.reject(new Error(this.broken));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiting.length >= this.maxQueue)
      return Promise.reject(new QueueFullError(`the decode queue is full (${this.maxQueue} images)`));
    return new Promise((resolve, reject) => {
      const inline = this.inline !== null && decodesOffThread(this.init, bytes);
      // The bytes move to a worker: a view into a shared buffer (Node's small-Buffer pool) is copied first.
      const own = inline || (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) ? bytes : bytes.slice();
      const task: DecodeTask = { type: 'task', id: this.nextId++, bytes: own, name, slot: null };
      const job: Job = { task, slot: null, resolve, reject, signal, inline };
      if (signal) {
        job.onAbort = () => {
          const at = this.waiting.indexOf(job);
          if (at < 0) return; // being decoded: the result is dropped by the caller
          this.waiting.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.waiting.push(job);
      this.dispatch();
    });
  }

  /** Stops the workers (after the images under way, which callers await before closing). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('decode pool: closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Decodes a plain JPEG from this thread (the decoding itself runs on the libuv pool) into a slot. */
  private async decodeInline(preprocess: Preprocess, bytes: Uint8Array, name: string): Promise<DecodedInput> {
    this.inlineActive++;
    this.inlined++;
    const slot = this.memory.acquire();
    try {
      const { x, shape } = await preprocess(bytes, name, slot?.view);
      if (slot && x === slot.view) return this.inSlot(slot, shape);
      if (slot) this.memory.release(slot);
      return { x, shape: shape.slice(1), release: () => {} };
    } catch (err) {
      if (slot) this.memory.release(slot);
      const f = preprocessFailure(err);
      throw f.userError ? new ImageRejected(f.kind, f.message) : err;
    } finally {
      this.inlineActive--;
      this.dispatch();
    }
  }

  /** The image in `slot`, released (once) by the caller. */
  private inSlot(slot: InputSlot, shape: number[]): DecodedInput {
    let held = true;
    const release = (): void => {
      if (held) this.memory.release(slot);
      held = false;
    };
    return { x: slot.view, shape: shape.slice(1), release };
  }

  private share(worker: Worker, id: number, buffer: SharedArrayBuffer): void {
    const msg: SlotMessage = { type: 'slot', id, buffer };
    worker.postMessage(msg);
  }

  /** Settles `job` with the worker's reply, and gives its slot back unless the image is in it. */
  private settle(job: Job, reply: DecodeReply): void {
    const slot = job.slot;
    job.slot = null;
    if (reply.ok && reply.inSlot && slot) {
      job.resolve(this.inSlot(slot, reply.shape));
      return;
    }
    if (slot) this.memory.release(slot);
    if (reply.ok && !reply.inSlot) job.resolve({ x: reply.x, shape: reply.shape.slice(1), release: () => {} });
    else if (reply.ok) job.reject(new Error(`decode worker: image ${reply.id} written to a slot it was not given`));
    else job.reject(reply.userError ? new ImageRejected(reply.kind, reply.message) : new Error(reply.message));
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./decode_worker.js', import.meta.url), { workerData: this.init });
    for (const made of this.memory.made) this.share(worker, made.id, made.view.buffer as SharedArrayBuffer);
    const slot: Slot = { worker, job: null, ready: false };
    worker.on('message', (reply: DecodeReply | 'ready') => {
      if (reply === 'ready') {
        slot.ready = true;
        return;
      }
      const job = slot.job;
      if (!job || job.task.id !== reply.id) return;
      slot.job = null;
      this.settle(job, reply);
      this.dispatch();
    });
    let failure = '';
    worker.on('error', (err) => {
      failure = ` (${err.message})`;
    });
    worker.on('exit', (code) => {
      const job = slot.job;
      slot.job = null;
      if (job?.slot) this.memory.release(job.slot);
      job?.reject(new Error(`decode worker exited with code ${code}${failure} while decoding ${job.task.name}`));
      if (this.closed) return;
      if (!slot.ready) {
        this.broken = `decode workers cannot start: exit code ${code}${failure}`;
        for (const waiting of this.waiting.splice(0)) waiting.reject(new Error(this.broken));
        return;
      }
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots[at] = this.spawn();
      this.dispatch();
    });
    return slot;
  }

  /** Starts the waiting images that can start, in order: JPEGs while inline room is left, others on free workers. */
  private dispatch(): void {
    for (let i = 0; i < this.waiting.length;) {
      const job = this.waiting[i]!;
      const worker = job.inline ? undefined : this.slots.find((s) => s.job === null);
      if (job.inline ? this.inlineActive >= this.maxInline : !worker) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
      if (!worker) {
        this.decodeInline(this.inline!, job.task.bytes, job.task.name).then(job.resolve, job.reject);
        continue;
      }
      worker.job = job;
      job.slot = this.memory.acquire();
      job.task.slot = job.slot?.id ?? null;
      worker.worker.postMessage(job.task, [job.task.bytes.buffer as ArrayBuffer]);
    }
  }
}
