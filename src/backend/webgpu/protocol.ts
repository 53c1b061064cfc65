// What the WebGPU backend's client (the calling thread) and its GPU worker share: the commands the
// client queues and posts in batches, and the layout of two kinds of SharedArrayBuffer. The status
// block is one per backend: the worker's state (starting, ready, failed), a heartbeat counter it
// bumps while alive, the device's limits and features, and the one sticky error message. A reply block is one
// per read or fence: a state word the client waits on (Atomics.wait, in slices) and the bytes.

/** Int32 word indices of the status block. */
export const STATE = 0;
export const HEARTBEAT = 1;
export const ERROR_LEN = 2;
/** Bits of the device's optional features the backend uses (FEATURE_*). */
export const FEATURES = 3;
export const FEATURE_SHADER_F16 = 1;
/** Set by the client as its process exits: the worker runs no more commands (it answers 'quiet'). */
export const CLOSING = 8;
/** Float64 indices of the device's limits (bytes). */
export const LIMIT_MAX_BUFFER = 2;
export const LIMIT_MAX_BINDING = 3;
/** Where the error text starts, and the block's size. */
export const ERROR_TEXT = 64;
export const STATUS_BYTES = 4096;

/** States of the status block's STATE word. */
export const STARTING = 0;
export const READY = 1;
export const FAILED = 2;

/** States of a reply block's first word; the data follows at REPLY_DATA bytes. */
export const PENDING = 0;
export const DONE = 1;
export const REPLY_FAILED = 2;
export const REPLY_DATA = 8;

/** How often the worker bumps HEARTBEAT (ms). */
export const HEARTBEAT_MS = 100;

/** Element types of GPU buffers: f32 tensors, i32 indices (max-pool argmax, labels). */
export type BufferKind = 'f32' | 'i32';

/** One kernel launch: the kernel's name, its buffers by id, and its numeric parameters. */
export interface RunCommand {
  op: 'run';
  kernel: string;
  /** Buffer ids; null where an optional buffer (a bias) is absent. */
  ids: (number | null)[];
  params: Record<string, number>;
}

export type Command =
  /** A new buffer of `bytes`, filled with `data` when given (else zeros); `what` names it in errors. */
  | { op: 'alloc'; id: number; bytes: number; what: string; data?: ArrayBuffer }
  /** Overwrites bytes at `offset` of buffer `id`. */
  | { op: 'write'; id: number; offset: number; data: ArrayBuffer }
  | { op: 'copy'; from: number; to: number; bytes: number }
  | { op: 'free'; id: number }
  | RunCommand
  /** Copies `bytes` of buffer `id` into `reply` (after everything queued before). */
  | { op: 'read'; id: number; bytes: number; reply: SharedArrayBuffer }
  /** Marks `reply` done once the GPU has finished everything queued before. */
  | { op: 'fence'; reply: SharedArrayBuffer }
  /** After CLOSING: marks `reply` done once the worker has stopped and has no Dawn promise pending. */
  | { op: 'quiet'; reply: SharedArrayBuffer }
  /** Test hooks: destroy the device (as a lost device), or stop answering (a stuck worker). */
  | { op: 'debug'; what: 'destroy-device' | 'hang' | 'exit' };

/** What the worker is started with. */
export interface GpuWorkerInit {
  status: SharedArrayBuffer;
  /** Ask the adapter for its largest buffers (default true). */
  largeBuffers: boolean;
}

/** Writes the sticky error (the first one wins) and marks the backend failed. */
export function writeFailure(status: SharedArrayBuffer, message: string): void {
  const words = new Int32Array(status);
  if (Atomics.load(words, STATE) === FAILED) return;
  const bytes = new TextEncoder().encode(message).slice(0, STATUS_BYTES - ERROR_TEXT);
  new Uint8Array(status, ERROR_TEXT, bytes.length).set(bytes);
  Atomics.store(words, ERROR_LEN, bytes.length);
  Atomics.store(words, STATE, FAILED);
  Atomics.notify(words, STATE);
}

/** The sticky error's message. */
export function readFailure(status: SharedArrayBuffer): string {
  const len = Atomics.load(new Int32Array(status), ERROR_LEN);
  // TextDecoder refuses views of shared memory: copy first.
  return new TextDecoder().decode(new Uint8Array(status, ERROR_TEXT, len).slice());
}

/**
 * Atomics.waitAsync (ES2024; in Node 16+ and current browsers): resolves when `word` leaves
 * `value` or after `ms`. A timer runs beside it because a pending waitAsync alone does not keep
 * Node's event loop alive.
 */
export async function waitAsync(words: Int32Array, index: number, value: number, ms: number): Promise<void> {
  const atomics = Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: Promise<unknown> | string };
  };
  const w = atomics.waitAsync(words, index, value, ms);
  if (!w.async) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([w.value, new Promise((resolve) => (timer = setTimeout(resolve, ms + 10)))]);
  clearTimeout(timer);
}
