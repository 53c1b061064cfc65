// The control block the thread pool and its workers share (a SharedArrayBuffer): dispatch and
// completion words for Atomics.wait/notify, the job (kernel index and arguments), one state word
// per worker, and room for a worker's error message. Both sides import this one layout.

export const CONTROL_BYTES = 2048;
/** Int32 word indices. */
export const GEN = 0; // bumped once per job; workers wait on it
export const PENDING = 1; // workers still to finish the job; the caller waits on it
export const KERNEL = 2; // index into PARALLEL_KERNELS
export const NTHREADS = 3; // threads taking part (tid 0 is the caller)
export const NARGS = 4;
export const ERROR_TID = 5; // 0, or 1 + the tid of a worker whose kernel threw
export const READY = 6; // workers ready; the creator waits on it
export const INIT_FAILED = 7; // 0, or 1 + the tid of a worker that could not start
export const STOP = 8; // set when the pool shuts down
export const ERROR_LEN = 9; // bytes of the error message
export const STATE = 16; // STATE + tid: the worker's state for the current job
export const MAX_WORKERS = 64;
/** Float64 index of the job's arguments, and how many there may be. */
export const ARGS = 256 / 8;
export const MAX_ARGS = 16;
export const ERROR_TEXT = 512;
export const ERROR_TEXT_BYTES = CONTROL_BYTES - ERROR_TEXT;

/** Worker states: the caller marks DISPATCHED; the worker claims RUNNING, or the caller gives up (ABANDONED). */
export const IDLE = 0;
export const DISPATCHED = 1;
export const RUNNING = 2;
export const ABANDONED = 3;

/** What a worker is started with. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  tid: number;
  /** Top of this worker's own stack region in the shared memory. */
  stackTop: number;
}

/** Stores a (truncated) error message for the caller. */
export function writeError(control: SharedArrayBuffer, tid: number, message: string): void {
  const ctrl = new Int32Array(control);
  const bytes = new TextEncoder().encode(message).slice(0, ERROR_TEXT_BYTES);
  if (Atomics.compareExchange(ctrl, ERROR_TID, 0, tid + 1) !== 0) return; // the first error wins
  new Uint8Array(control, ERROR_TEXT, ERROR_TEXT_BYTES).set(bytes);
  Atomics.store(ctrl, ERROR_LEN, bytes.length);
}

export function readError(control: SharedArrayBuffer | ArrayBuffer): string {
  const ctrl = new Int32Array(control);
  const len = Atomics.load(ctrl, ERROR_LEN);
  // TextDecoder refuses views of shared memory: copy first.
  return new TextDecoder().decode(new Uint8Array(control, ERROR_TEXT, len).slice());
}
