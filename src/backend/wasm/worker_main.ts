// Entry of a wasm backend worker thread (Node worker_threads or a browser Web Worker): it
// instantiates the kernels module on the shared memory with its own stack, says it is ready,
// then waits for jobs on the control block (Atomics.wait), runs its tid's part of each and
// counts itself done. A kernel that throws (a trap) is reported to the caller, never swallowed.
import {
  ARGS,
  DISPATCHED,
  GEN,
  IDLE,
  INIT_FAILED,
  KERNEL,
  NARGS,
  NTHREADS,
  PENDING,
  READY,
  RUNNING,
  STATE,
  STOP,
  writeError,
  type WorkerInit,
} from './control.js';
import { PARALLEL_KERNELS, instantiate } from './kernels.js';

type Kernel = (...args: number[]) => void;

async function initData(): Promise<{ init: WorkerInit; ready: () => void }> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (proc?.versions?.node) {
    // Not a literal, so that bundlers leave it out of the browser worker.
    const threads = 'node:worker_threads';
    const { workerData } = (await import(/* @vite-ignore */ threads)) as { workerData: unknown };
    return { init: workerData as WorkerInit, ready: () => {} };
  }
  const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
  return new Promise((resolve) => {
    scope.onmessage = (e: MessageEvent) => {
      scope.onmessage = null;
      resolve({ init: e.data as WorkerInit, ready: () => scope.postMessage('ready') });
    };
  });
}

/** The job loop; `gen` is the generation read before this worker said it was ready. */
function serve(init: WorkerInit, kernels: Kernel[], gen: number): void {
  const ctrl = new Int32Array(init.control);
  const args = new Float64Array(init.control, ARGS * 8);
  const { tid } = init;
  for (;;) {
    Atomics.wait(ctrl, GEN, gen);
    gen = Atomics.load(ctrl, GEN);
    if (Atomics.load(ctrl, STOP)) return;
    const nthreads = Atomics.load(ctrl, NTHREADS);
    if (tid >= nthreads) continue;
    // Claim the job; the caller may have given up on this worker (ABANDONED) meanwhile.
    if (Atomics.compareExchange(ctrl, STATE + tid, DISPATCHED, RUNNING) !== DISPATCHED) continue;
    const kernel = kernels[Atomics.load(ctrl, KERNEL)];
    try {
      if (!kernel) throw new Error('unknown kernel index');
      kernel(...Array.from(args.subarray(0, Atomics.load(ctrl, NARGS))), tid, nthreads);
    } catch (err) {
      writeError(init.control, tid, err instanceof Error ? err.message : String(err));
    }
    Atomics.store(ctrl, STATE + tid, IDLE);
    if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
  }
}

const { init, ready } = await initData();
const ctrl = new Int32Array(init.control);
// Read before saying ready: the first job may be dispatched the moment READY is counted.
const firstGen = Atomics.load(ctrl, GEN);
let kernels: Kernel[] | null = null;
try {
  const instance = instantiate(init.module, init.memory);
  const sp = instance.exports.__stack_pointer;
  if (!(sp instanceof WebAssembly.Global)) throw new Error('the threaded kernels module does not export __stack_pointer');
  sp.value = init.stackTop;
  kernels = PARALLEL_KERNELS.map((name) => instance.exports[name] as Kernel);
} catch (err) {
  writeError(init.control, init.tid, err instanceof Error ? err.message : String(err));
  Atomics.store(ctrl, INIT_FAILED, init.tid + 1);
}
Atomics.add(ctrl, READY, 1);
Atomics.notify(ctrl, READY);
ready();
if (kernels) serve(init, kernels, firstGen);
