// The thread pool of the wasm backend, platform-neutral: workers (started by a platform adapter,
// platform_node.ts or platform_web.ts) run the same kernels module on the shared memory. A job is
// one parallel kernel call: the caller writes the kernel and its arguments into the control
// block, wakes the workers (Atomics.notify), computes tid 0 itself and waits (Atomics.wait) until
// every worker has counted itself done. A worker that does not take up a job in time is treated
// as dead, and a worker that exits or whose kernel throws makes the pool fail with a clear
// error: never a hang, never a silently partial result.
import * as C from './control.js';
import { PARALLEL_KERNELS, type KernelExports, type ParallelKernel } from './kernels.js';

/** A started worker, as the pool sees it. */
export interface WorkerLink {
  terminate(): void;
}

/** Starts workers on one platform; `onExit` is called (once) when a worker dies or exits. */
export interface Platform {
  spawn(init: C.WorkerInit, onExit: (why: string) => void): WorkerLink;
}

export interface PoolOptions {
  /** How long a worker may take to pick up a job before it is declared dead (ms). */
  ackTimeoutMs?: number;
}

const WAIT_SLICE_MS = 100;

export class ThreadPool {
  readonly control: SharedArrayBuffer | ArrayBuffer;
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: WorkerLink[] = [];
  private broken: string | null = null;
  private closed = false;
  private readonly ackTimeoutMs: number;

  /** `threads` counts the caller: threads − 1 workers are started. */
  constructor(
    private readonly kernels: KernelExports,
    readonly threads: number,
    platform: Platform,
    init: Omit<C.WorkerInit, 'control' | 'tid' | 'stackTop'>,
    stackTops: number[],
    opts: PoolOptions = {},
  ) {
    if (threads > C.MAX_WORKERS) throw new Error(`wasm backend: at most ${C.MAX_WORKERS} threads`);
    // Generous: a live worker wakes in microseconds, but a loaded machine may deschedule it for a while.
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 20_000;
    // One thread needs no shared memory (and a page without cross-origin isolation has none).
    const shared = threads > 1 ? new SharedArrayBuffer(C.CONTROL_BYTES) : null;
    this.control = shared ?? new ArrayBuffer(C.CONTROL_BYTES);
    this.ctrl = new Int32Array(this.control);
    this.args = new Float64Array(this.control, C.ARGS * 8, C.MAX_ARGS);
    for (let tid = 1; shared && tid < threads; tid++) {
      const stackTop = stackTops[tid - 1];
      if (stackTop === undefined) throw new Error('wasm backend: a worker has no stack');
      this.workers.push(
        platform.spawn({ ...init, control: shared, tid, stackTop }, (why) => {
          if (!this.closed) this.broken ??= `worker thread ${tid} of ${threads} ${why}`;
        }),
      );
    }
  }

  /** Blocks (Atomics.wait) until every worker is ready; throws if one failed to start or `timeoutMs` passed. */
  waitReadySync(timeoutMs = 60000): void {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = Atomics.load(this.ctrl, C.READY);
      this.checkStarted();
      if (ready >= this.threads - 1) return;
      const left = deadline - Date.now();
      if (left <= 0) this.failStart(`only ${ready} of ${this.threads - 1} worker threads started within ${timeoutMs / 1000} s`);
      Atomics.wait(this.ctrl, C.READY, ready, Math.min(left, WAIT_SLICE_MS));
    }
  }

  /** The same without blocking the thread (a browser page's main thread may not block). */
  async waitReady(timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = Atomics.load(this.ctrl, C.READY);
      this.checkStarted();
      if (ready >= this.threads - 1) return;
      if (Date.now() > deadline) this.failStart(`only ${ready} of ${this.threads - 1} worker threads started within ${timeoutMs / 1000} s`);
      // A timer, not Atomics.waitAsync: a pending waitAsync does not keep Node's event loop alive
      // (and the workers are unref'd), so the process could end while waiting.
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private checkStarted(): void {
    const failed = Atomics.load(this.ctrl, C.INIT_FAILED);
    if (failed !== 0) this.failStart(`worker thread ${failed - 1} could not start: ${C.readError(this.control)}`);
    if (this.broken) this.failStart(this.broken);
  }

  private failStart(why: string): never {
    this.close();
    throw new Error(`wasm backend: ${why}`);
  }

  /**
   * Runs `name(...args, tid, nthreads)` on threads 0 … nthreads − 1 (tid 0 here) and returns when
   * all are done. nthreads ≤ 1 runs on this thread only.
   */
  run(name: ParallelKernel, args: number[], nthreads = this.threads): void {
    const fn = this.kernels[name] as (...a: number[]) => void;
    const n = Math.min(nthreads, this.threads);
    if (n <= 1) {
      callKernel(name, () => fn(...args, 0, 1));
      return;
    }
    if (this.closed) throw new Error('wasm backend: the thread pool was closed');
    if (this.broken) throw new Error(`wasm backend: ${this.broken}; the thread pool cannot run kernels (use threads: 1)`);
    if (args.length > C.MAX_ARGS) throw new Error(`wasm backend: ${name} has too many arguments`);
    const ctrl = this.ctrl;
    this.args.set(args);
    Atomics.store(ctrl, C.NARGS, args.length);
    Atomics.store(ctrl, C.KERNEL, PARALLEL_KERNELS.indexOf(name));
    Atomics.store(ctrl, C.NTHREADS, n);
    Atomics.store(ctrl, C.ERROR_TID, 0);
    for (let tid = 1; tid < n; tid++) Atomics.store(ctrl, C.STATE + tid, C.DISPATCHED);
    Atomics.store(ctrl, C.PENDING, n - 1);
    Atomics.add(ctrl, C.GEN, 1);
    Atomics.notify(ctrl, C.GEN);
    let own: unknown = null;
    try {
      fn(...args, 0, n);
    } catch (err) {
      own = err;
    }
    this.awaitWorkers(n);
    if (own !== null)
      callKernel(name, () => {
        throw own;
      });
    const failed = Atomics.load(ctrl, C.ERROR_TID);
    if (failed !== 0) throw new Error(`wasm backend: kernel ${name} failed on worker thread ${failed - 1}: ${C.readError(this.control)}`);
    if (this.broken) throw new Error(`wasm backend: ${this.broken}; kernel ${name} did not complete`);
  }

  /** Waits until PENDING is 0; workers that never claim the job within the timeout are given up. */
  private awaitWorkers(n: number): void {
    const ctrl = this.ctrl;
    const deadline = Date.now() + this.ackTimeoutMs;
    let gaveUp = false;
    for (;;) {
      const pending = Atomics.load(ctrl, C.PENDING);
      if (pending === 0) return;
      Atomics.wait(ctrl, C.PENDING, pending, WAIT_SLICE_MS);
      if (gaveUp || Date.now() < deadline) continue;
      gaveUp = true;
      for (let tid = 1; tid < n; tid++) {
        if (Atomics.compareExchange(ctrl, C.STATE + tid, C.DISPATCHED, C.ABANDONED) === C.DISPATCHED) {
          this.broken ??= `worker thread ${tid} of ${this.threads} did not respond within ${this.ackTimeoutMs / 1000} s (it died?)`;
          Atomics.sub(ctrl, C.PENDING, 1);
        }
      }
    }
  }

  /** Stops and terminates the workers; later parallel runs throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctrl, C.STOP, 1);
    Atomics.add(this.ctrl, C.GEN, 1);
    Atomics.notify(this.ctrl, C.GEN);
    for (const w of this.workers) w.terminate();
  }

  /** The workers (for tests that simulate a worker's death). */
  get links(): readonly WorkerLink[] {
    return this.workers;
  }
}

/** Runs a kernel call, turning a WebAssembly trap into an error naming the kernel. */
function callKernel(name: string, call: () => void): void {
  try {
    call();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) throw new Error(`wasm backend: kernel ${name} trapped: ${err.message}`);
    throw err;
  }
}
