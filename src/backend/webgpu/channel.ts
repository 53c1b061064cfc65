// The client's side of the link to the GPU worker. Commands are queued and posted in batches
// (one per synchronous burst of ops, through a microtask, or sooner when the queue grows), so an
// op costs no round trip. Only reads and fences wait, and never forever: the wait is cut in short
// slices, and between them the status block tells whether the worker failed (a lost device, an
// out-of-memory, a GPU error: one sticky message), died or stopped answering (its heartbeat no
// longer moves). Then this and every later wait throws the same DeviceError.
import { DeviceError, UsageError } from '../../errors.js';
import {
  CLOSING,
  DONE,
  FAILED,
  HEARTBEAT,
  PENDING,
  REPLY_DATA,
  REPLY_FAILED,
  STATE,
  readFailure,
  waitAsync,
  writeFailure,
  type Command,
} from './protocol.js';

/** How the channel reaches its worker. */
export interface WorkerPort {
  post(commands: Command[], transfer: ArrayBuffer[]): void;
  terminate(): void;
  /** Runs `fn` as the process exits, before its worker threads are stopped (Node). */
  atProcessExit?(fn: () => void): void;
}

export interface ChannelOptions {
  /** How long the worker's heartbeat may stand still before it is declared stuck (ms). */
  stallMs?: number;
}

/** Queue length, or bytes of queued data, that trigger a post before the burst ends. */
const MAX_QUEUED = 512;
const MAX_QUEUED_BYTES = 64 << 20;
/** Length of one blocking wait slice (ms). */
const SLICE_MS = 50;

export class Channel {
  private queue: Command[] = [];
  private transfer: ArrayBuffer[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private readonly words: Int32Array;
  private readonly stallMs: number;
  /** Reads that crossed to the GPU (a test hook: tensors stay on the GPU until asked). */
  reads = 0;

  constructor(
    readonly status: SharedArrayBuffer,
    private readonly port: WorkerPort,
    opts: ChannelOptions = {},
  ) {
    this.words = new Int32Array(status);
    // Generous: Dawn compiles a pipeline on the worker's JS thread, which stops its heartbeat, and
    // SwiftShader's compile of a large GEMM shader took over 30 s on a loaded machine.
    this.stallMs = opts.stallMs ?? 120_000;
  }

  /** Queues a command (`data` is handed over to the worker). */
  send(cmd: Command, data?: ArrayBuffer): void {
    this.queue.push(cmd);
    if (data) {
      this.transfer.push(data);
      this.queuedBytes += data.byteLength;
    }
    if (this.queue.length >= MAX_QUEUED || this.queuedBytes >= MAX_QUEUED_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Posts what is queued. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0) return;
    const cmds = this.queue;
    const transfer = this.transfer;
    this.queue = [];
    this.transfer = [];
    this.queuedBytes = 0;
    if (this.failed()) return; // the worker is gone or its device is: nothing more runs
    this.port.post(cmds, transfer);
  }

  failed(): boolean {
    return Atomics.load(this.words, STATE) === FAILED;
  }

  /** Throws the sticky error if the GPU side failed. */
  check(): void {
    if (this.failed()) throw new DeviceError(readFailure(this.status));
  }

  /** Records a failure seen on this side (the worker exited, or stopped answering). */
  fail(message: string): void {
    writeFailure(this.status, message);
    this.port.terminate();
  }

  /** The bytes of buffer `id`, blocking this thread until they are there. */
  readSync(id: number, bytes: number): ArrayBuffer {
    const reply = this.request(id, bytes);
    this.waitSync(reply);
    return this.replyData(reply, bytes);
  }

  /** The bytes of buffer `id`, without blocking. */
  async read(id: number, bytes: number): Promise<ArrayBuffer> {
    const reply = this.request(id, bytes);
    await this.waitAsync(reply);
    return this.replyData(reply, bytes);
  }

  /**
   * For a process's exit, where Node stops worker threads and one stopped inside a Dawn call
   * aborts the whole process: tells the worker to run nothing more and waits (blocking, at most
   * `ms`) until it has stopped, between two commands. Never throws; the backend is unusable after.
   */
  quiet(ms: number): void {
    if (this.failed() || !canBlock()) return;
    Atomics.store(this.words, CLOSING, 1);
    const reply = new SharedArrayBuffer(REPLY_DATA);
    this.send({ op: 'quiet', reply });
    this.flush();
    const state = new Int32Array(reply, 0, 1);
    const end = Date.now() + ms;
    while (Atomics.load(state, 0) === PENDING && !this.failed() && Date.now() < end) Atomics.wait(state, 0, PENDING, SLICE_MS);
  }

  /** Resolves once the GPU has finished everything queued so far. */
  async fence(): Promise<void> {
    this.check();
    const reply = new SharedArrayBuffer(REPLY_DATA);
    this.send({ op: 'fence', reply });
    this.flush();
    await this.waitAsync(reply);
  }

  private request(id: number, bytes: number): SharedArrayBuffer {
    this.check();
    const reply = new SharedArrayBuffer(REPLY_DATA + Math.ceil(bytes / 4) * 4);
    this.send({ op: 'read', id, bytes, reply });
    this.flush();
    this.reads++;
    return reply;
  }

  private replyData(reply: SharedArrayBuffer, bytes: number): ArrayBuffer {
    const out = new ArrayBuffer(bytes);
    new Uint8Array(out).set(new Uint8Array(reply, REPLY_DATA, bytes));
    return out;
  }

  /** Throws when the reply failed or the worker did; false while it may still come. */
  private settled(state: Int32Array, beat: { value: number; at: number }): boolean {
    const s = Atomics.load(state, 0);
    if (s === DONE) return true;
    this.check();
    if (s === REPLY_FAILED) throw new DeviceError('webgpu backend: a read from the GPU failed');
    const now = Date.now();
    const value = Atomics.load(this.words, HEARTBEAT);
    if (value !== beat.value) {
      beat.value = value;
      beat.at = now;
    } else if (now - beat.at > this.stallMs) {
      this.fail(`the WebGPU worker stopped answering (no heartbeat for ${Math.round((now - beat.at) / 1000)} s)`);
      this.check();
    }
    return false;
  }

  private waitSync(reply: SharedArrayBuffer): void {
    if (!canBlock())
      throw new UsageError(
        "webgpu backend: reading a tensor synchronously blocks, which a page's main thread may not do: run the model in a Worker, or use await tensor.data()",
      );
    const state = new Int32Array(reply, 0, 1);
    const beat = { value: Atomics.load(this.words, HEARTBEAT), at: Date.now() };
    while (!this.settled(state, beat)) Atomics.wait(state, 0, PENDING, SLICE_MS);
  }

  private async waitAsync(reply: SharedArrayBuffer): Promise<void> {
    const state = new Int32Array(reply, 0, 1);
    const beat = { value: Atomics.load(this.words, HEARTBEAT), at: Date.now() };
    while (!this.settled(state, beat)) {
      await waitAsync(state, 0, PENDING, SLICE_MS);
    }
  }
}

/** False on a page's main thread, where Atomics.wait throws. */
function canBlock(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown; process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node) return true;
  return g.document === undefined || g.WorkerGlobalScope !== undefined;
}
