// A small Node harness over dist/wasm/*.wasm for the kernel tests (not the wasm backend): one
// instance over its own memory, a bump allocator, copies in and out, and a kernel call "on n
// threads" made either sequentially (tid 0..n-1 in turn: proves the split covers the output) or on
// real worker_threads sharing the memory of the threaded build (proves it under concurrency).
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ConvGeometry } from '../src/backend/backend.js';
import { kernelImports } from '../src/backend/wasm/kernels.js';

export type KernelFile = 'alexnet.wasm' | 'alexnet_mt.wasm' | 'alexnet_relaxed.wasm' | 'alexnet_mt_relaxed.wasm';
type KernelFn = (...args: number[]) => number;

const PAGE = 65536;
const STACK_BYTES = 256 * 1024;

export function kernelBytes(file: KernelFile): ArrayBuffer {
  const bytes = readFileSync(new URL(`../wasm/${file}`, import.meta.url));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Whether this engine runs relaxed SIMD (Node 20's V8 needs its flag, set here for this process). */
export function relaxedSimdAvailable(): boolean {
  const bytes = kernelBytes('alexnet_relaxed.wasm');
  if (WebAssembly.validate(bytes)) return true;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

export class KernelHarness {
  readonly memory: WebAssembly.Memory;
  private readonly module: WebAssembly.Module;
  private readonly exports: Record<string, unknown>;
  private readonly base: number;
  private top: number;

  constructor(readonly file: KernelFile = 'alexnet.wasm') {
    this.module = new WebAssembly.Module(kernelBytes(file));
    const shared = file.includes('_mt');
    this.memory = new WebAssembly.Memory(shared ? { initial: 64, maximum: 65536, shared: true } : { initial: 64 });
    this.exports = new WebAssembly.Instance(this.module, kernelImports(this.memory)).exports;
    this.base = (this.exports['__heap_base'] as WebAssembly.Global).value as number;
    this.top = this.base;
  }

  fn(name: string): KernelFn {
    const f = this.exports[name];
    if (typeof f !== 'function') throw new Error(`${this.file} exports no ${name}`);
    return f as KernelFn;
  }

  /** Frees everything allocated so far. */
  reset(): void {
    this.top = this.base;
  }

  alloc(bytes: number): number {
    const at = (this.top + 15) & ~15;
    this.top = at + Math.max(bytes, 0);
    const need = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (need > 0) this.memory.grow(need);
    return at;
  }

  /** Scratch of a companion NAME_scratch_bytes result (>>> 0: the C side returns size_t). */
  allocScratch(bytes: number): number {
    const n = bytes >>> 0;
    if (n === 0xffffffff) throw new Error('scratch does not fit in 32 bits');
    return this.alloc(n);
  }

  put(values: ArrayLike<number>): number {
    const at = this.alloc(values.length * 4);
    new Float32Array(this.memory.buffer, at, values.length).set(values);
    return at;
  }

  /** A buffer of n floats filled with NaN (so a kernel that leaves an element unwritten shows). */
  poisoned(n: number): number {
    const at = this.alloc(n * 4);
    new Float32Array(this.memory.buffer, at, n).fill(NaN);
    return at;
  }

  geometry(g: ConvGeometry): number {
    const at = this.alloc(14 * 4);
    const f = [g.n, g.c, g.h, g.w, g.oc, g.kh, g.kw, g.oh, g.ow, g.strideH, g.strideW, g.padH, g.padW, g.groups];
    new Int32Array(this.memory.buffer, at, 14).set(f);
    return at;
  }

  read(at: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, n).slice();
  }

  /** Calls name(...args, tid, nthreads) for tid = 0..nthreads-1, one after another. */
  runSequential(name: string, args: number[], nthreads: number): void {
    const f = this.fn(name);
    for (let tid = 0; tid < nthreads; tid++) f(...args, tid, nthreads);
  }

  /**
   * Calls name(...args, tid, nthreads) on nthreads worker_threads at once, each with its own
   * instance of this (threaded) module over the shared memory and its own stack.
   */
  async runThreads(name: string, args: number[], nthreads: number): Promise<void> {
    if (!(this.memory.buffer instanceof SharedArrayBuffer)) throw new Error(`${this.file} is not the threaded build`);
    const stacks = Array.from({ length: nthreads }, () => this.alloc(STACK_BYTES) + STACK_BYTES);
    const workers = stacks.map(
      (stackTop, tid) =>
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: { module: this.module, memory: this.memory, stackTop, name, args: [...args, tid, nthreads] },
        }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
          }),
      ),
    );
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, stackTop, name, args } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory, exp: Math.exp, log: Math.log, pow: Math.pow } });
exports.__stack_pointer.value = stackTop;
exports[name](...args);
parentPort.postMessage('done');
`;
