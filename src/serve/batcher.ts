// Dynamic batching, as Triton's dynamic batcher does it: requests queue, and a batch goes to the
// model when it reaches `maxBatch`, or when its oldest request has waited `maxDelayMs`, or at once
// when the model is idle and no other request is on its way (announced but still decoding):
// waiting then could only add latency, since nobody is coming to fill the batch. One batch runs at
// a time (the backend runs one forward at a time anyway), except that with `maxInFlight` 2 a full
// batch may start while another runs, so that `run` can assemble its input during that forward
// pass (run must then hold its own pass until the other's is over). The queue is bounded (QueueFullError),
// a queued request whose signal aborts (its timeout, its client gone) leaves the queue, and
// close() refuses new work and finishes everything queued. Clock and timers are injected so the
// tests drive time by hand.

/** The queue holds `maxQueue` requests already: answer 503 with Retry-After. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

/** The batcher is closing (the server is shutting down): answer 503. */
export class ClosingError extends Error {
  override name = 'ClosingError';
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface BatcherOptions<I, O> {
  /** Most requests in one batch. */
  maxBatch: number;
  /** Longest a request waits for others to join its batch (ms). */
  maxDelayMs: number;
  /** Most requests waiting (not counting the batch that runs). */
  maxQueue: number;
  /** Runs one batch: one output per input, in order. */
  run: (inputs: I[]) => Promise<O[]>;
  /** Told the size of each batch as it starts (metrics). */
  onBatch?: (size: number) => void;
  /** Batches started and not finished, at most (default 1; with 2 a full batch may start while one runs). */
  maxInFlight?: 1 | 2;
  clock?: Clock;
}

/** An announced request: `withdraw()` when it will not be submitted (its decoding failed). */
export interface Ticket {
  withdraw(): void;
  /** Ends the announcement without rescheduling (submit does this). */
  end(): void;
}

interface Entry<I, O> {
  input: I;
  enqueuedAt: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class DynamicBatcher<I, O> {
  private readonly queue: Entry<I, O>[] = [];
  private readonly clock: Clock;
  private inFlight = 0;
  private closing = false;
  private timer: unknown = null;
  private announced = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: BatcherOptions<I, O>) {
    if (!(opts.maxBatch >= 1 && opts.maxQueue >= 1 && opts.maxDelayMs >= 0)) throw new RangeError('batcher: bad limits');
    this.clock = opts.clock ?? systemClock;
  }

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Whether a batch is running now. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /**
   * Says a request is on its way (decoding): until it is submitted or withdrawn, an idle model
   * waits for it (up to maxDelayMs) rather than starting a smaller batch. Returns the withdrawal.
   */
  announce(): Ticket {
    this.announced++;
    let open = true;
    const end = (): void => {
      if (open) this.announced--;
      open = false;
    };
    return {
      withdraw: () => {
        end();
        this.schedule();
      },
      end,
    };
  }

  /**
   * Queues one input; resolves with its output, or rejects (queue full, closing, aborted, the
   * batch failed). `ticket`: the announcement this request made, ended here.
   */
  submit(input: I, signal?: AbortSignal, ticket?: Ticket): Promise<O> {
    ticket?.end();
    const refusal = this.closing
      ? new ClosingError('the server is shutting down')
      : signal?.aborted
        ? (signal.reason as unknown)
        : this.queue.length >= this.opts.maxQueue
          ? new QueueFullError(`the queue is full (${this.opts.maxQueue} requests)`)
          : null;
    if (refusal !== null) {
      this.schedule(); // the ended announcement may make a waiting batch due
      return Promise.reject(refusal);
    }
    return new Promise<O>((resolve, reject) => {
      const entry: Entry<I, O> = { input, enqueuedAt: this.clock.now(), resolve, reject, signal };
      if (signal) {
        entry.onAbort = () => {
          const at = this.queue.indexOf(entry);
          if (at < 0) return; // already in a batch: its result is simply not used
          this.queue.splice(at, 1);
          reject(signal.reason);
          this.schedule();
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.queue.push(entry);
      this.schedule();
    });
  }

  /** Refuses new requests, runs everything queued without waiting, and resolves when all are answered. */
  close(): Promise<void> {
    this.closing = true;
    this.schedule();
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts a batch if one is due, or sets the timer for when the oldest request's wait ends. */
  private schedule(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight > 0) {
      // While one runs, another batch may start only when it is full (and maxInFlight allows).
      if (this.inFlight < (this.opts.maxInFlight ?? 1) && this.queue.length >= this.opts.maxBatch) void this.runBatch();
      return;
    }
    const oldest = this.queue[0];
    if (!oldest) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const waited = this.clock.now() - oldest.enqueuedAt;
    const due = this.queue.length >= this.opts.maxBatch || waited >= this.opts.maxDelayMs || this.announced === 0 || this.closing;
    if (due) {
      void this.runBatch();
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, this.opts.maxDelayMs - waited);
  }

  private async runBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxBatch);
    for (const e of batch) if (e.onAbort) e.signal?.removeEventListener('abort', e.onAbort);
    this.inFlight++;
    this.opts.onBatch?.(batch.length);
    try {
      const outputs = await this.opts.run(batch.map((e) => e.input));
      if (outputs.length !== batch.length) throw new Error(`batcher: ${outputs.length} outputs for ${batch.length} inputs`);
      batch.forEach((e, i) => e.resolve(outputs[i] as O));
    } catch (err) {
      for (const e of batch) e.reject(err);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }
}
