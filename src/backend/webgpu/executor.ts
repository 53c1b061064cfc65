// The GPU worker's side: runs the client's command batches on one GPUDevice. It keeps the
// id → GPUBuffer table, records kernels through the KernelContext and submits once per batch;
// reads and fences complete later (mapAsync, onSubmittedWorkDone) into the client's reply blocks.
// Every GPU failure becomes the status block's one sticky message: a lost device, an
// out-of-memory (each allocation in its own error scope, so the message names the tensor), a
// validation error of a batch, an exception of a kernel. Every pending Dawn promise is counted: a
// worker stopped while one is pending aborts the process, so a 'quiet' (the client's process is
// exiting) is answered only once the worker has stopped and none is left.
import { KernelContext, STORAGE_USAGE } from './kernel_context.js';
import { KERNELS, type KernelName } from './kernels/index.js';
import { CLOSING, DONE, REPLY_DATA, REPLY_FAILED, writeFailure, type Command, type RunCommand } from './protocol.js';

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Executor {
  private readonly buffers = new Map<number, GPUBuffer>();
  /** Buffers freed by the client, destroyed once the commands using them are submitted. */
  private freed: GPUBuffer[] = [];
  /** Bound where a kernel's optional buffer is absent (a binding needs a buffer). */
  private readonly placeholder: GPUBuffer;
  private readonly ctx: KernelContext;
  /** Dawn promises not yet settled, and the 'quiet' replies waiting for them to be none. */
  private pending = 0;
  private quietReplies: SharedArrayBuffer[] = [];
  private readonly words: Int32Array;

  constructor(
    private readonly device: GPUDevice,
    private readonly status: SharedArrayBuffer,
    /** Test hooks that only the platform can carry out (a worker's exit). */
    private readonly exit: () => void,
  ) {
    this.ctx = new KernelContext(device);
    this.words = new Int32Array(status);
    this.placeholder = this.ctx.buffer(4, 'placeholder');
    void device.lost.then((info) => this.fail(`WebGPU device lost (${info.reason || 'unknown reason'}): ${info.message}`));
    device.onuncapturederror = (e) => this.fail(`WebGPU error: ${e.error.message}`);
  }

  private fail(message: string): void {
    writeFailure(this.status, message);
  }

  /** Runs one batch; GPU-side errors of the batch arrive asynchronously and are recorded then. */
  run(cmds: readonly Command[]): void {
    if (this.closing()) return this.stopped(cmds);
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('internal');
    try {
      for (const [i, cmd] of cmds.entries()) {
        if (this.closing()) {
          this.stopped(cmds.slice(i));
          break;
        }
        this.one(cmd);
      }
      this.ctx.flush();
    } catch (err) {
      this.fail(`webgpu backend: ${messageOf(err)}`);
    } finally {
      for (const b of this.freed) b.destroy();
      this.freed = [];
      for (const what of ['internal', 'validation']) {
        void this.track(this.device.popErrorScope()).then(
          (e) => e && this.fail(`WebGPU ${what} error: ${e.message}`),
          (e: unknown) => this.fail(`WebGPU error scope: ${messageOf(e)}`),
        );
      }
    }
  }

  /** Whether the client's process is exiting (then nothing more runs: see Channel.quiet). */
  private closing(): boolean {
    return Atomics.load(this.words, CLOSING) !== 0;
  }

  /** Skips `cmds`, answering only the client's 'quiet' (it waits for the worker to stop). */
  private stopped(cmds: readonly Command[]): void {
    for (const cmd of cmds) if (cmd.op === 'quiet') this.quiet(cmd.reply);
  }

  /** Answers `reply` once the GPU has done what was submitted and no Dawn promise is pending. */
  private quiet(reply: SharedArrayBuffer): void {
    this.quietReplies.push(reply);
    this.ctx.flush();
    this.track(this.device.queue.onSubmittedWorkDone());
  }

  /** Counts `p` as pending until it settles (its own handlers are attached elsewhere). */
  private track<T>(p: Promise<T>): Promise<T> {
    this.pending++;
    const done = () => {
      if (--this.pending > 0) return;
      for (const r of this.quietReplies.splice(0)) settle(r, DONE);
    };
    p.then(done, done);
    return p;
  }

  private buffer(id: number): GPUBuffer {
    const b = this.buffers.get(id);
    if (!b) throw new Error(`no GPU buffer ${id} (freed, or never made)`);
    return b;
  }

  private one(cmd: Command): void {
    switch (cmd.op) {
      case 'alloc':
        return this.alloc(cmd.id, cmd.bytes, cmd.what, cmd.data);
      case 'write':
        // queue.writeBuffer runs before anything still recorded: submit that first.
        this.ctx.flush();
        this.device.queue.writeBuffer(this.buffer(cmd.id), cmd.offset, cmd.data);
        return;
      case 'copy':
        this.ctx.commands().copyBufferToBuffer(this.buffer(cmd.from), 0, this.buffer(cmd.to), 0, Math.ceil(cmd.bytes / 4) * 4);
        return;
      case 'free': {
        const b = this.buffer(cmd.id);
        this.buffers.delete(cmd.id);
        this.freed.push(b);
        return;
      }
      case 'run':
        return this.kernel(cmd);
      case 'read':
        return this.read(cmd.id, cmd.bytes, cmd.reply);
      case 'fence':
        this.ctx.flush();
        void this.track(this.device.queue.onSubmittedWorkDone()).then(
          () => settle(cmd.reply, DONE),
          (e: unknown) => {
            this.fail(`WebGPU: waiting for the GPU failed: ${messageOf(e)}`);
            settle(cmd.reply, REPLY_FAILED);
          },
        );
        return;
      case 'quiet':
        return this.quiet(cmd.reply);
      case 'debug':
        if (cmd.what === 'destroy-device') this.device.destroy();
        else if (cmd.what === 'exit') this.exit();
        else for (;;); // 'hang': a worker that never answers again
        return;
    }
  }

  private alloc(id: number, bytes: number, what: string, data?: ArrayBuffer): void {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    this.device.pushErrorScope('out-of-memory');
    const buffer = this.device.createBuffer({ label: what, size, usage: STORAGE_USAGE, mappedAtCreation: data !== undefined });
    void this.track(this.device.popErrorScope()).then(
      (e) => e && this.fail(`out of GPU memory allocating ${what} (${bytes} bytes): ${e.message}`),
      (e: unknown) => this.fail(`WebGPU error scope: ${messageOf(e)}`),
    );
    if (data !== undefined) {
      new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
      buffer.unmap();
    }
    this.buffers.set(id, buffer);
  }

  private kernel(cmd: RunCommand): void {
    const fn = KERNELS[cmd.kernel as KernelName];
    if (!fn) throw new Error(`unknown kernel '${cmd.kernel}'`);
    const buffers = cmd.ids.map((id) => (id === null ? null : this.buffer(id)));
    if (cmd.kernel === 'sgdStep' && buffers[2] === null) buffers[2] = this.placeholder;
    fn(this.ctx, buffers, cmd.params);
  }

  private read(id: number, bytes: number, reply: SharedArrayBuffer): void {
    this.track(this.ctx.read(this.buffer(id), bytes)).then(
      (data) => {
        new Uint8Array(reply, REPLY_DATA, bytes).set(new Uint8Array(data));
        settle(reply, DONE);
      },
      (e: unknown) => {
        this.fail(`WebGPU: reading a tensor back failed: ${messageOf(e)}`);
        settle(reply, REPLY_FAILED);
      },
    );
  }
}

function settle(reply: SharedArrayBuffer, state: number): void {
  const word = new Int32Array(reply, 0, 1);
  Atomics.store(word, 0, state);
  Atomics.notify(word, 0);
}
