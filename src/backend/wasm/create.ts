// Assembles a wasm backend from a compiled kernels module, on either platform: the memory
// (shared when threads > 1), the main instance, the heap above the module's static data, one
// stack region per worker, and the thread pool.
import type { ReferenceBackend } from '../reference/index.js';
import { WasmHeap } from './heap.js';
import { instantiate, kernelsOf, newMemory } from './kernels.js';
import { ThreadPool, type Platform, type PoolOptions } from './pool.js';
import { relaxedSimdSupported } from './relaxed_simd.js';
import { WasmBackend } from './wasm_backend.js';
import { UsageError } from '../../errors.js';

/** Each worker's stack (the kernels keep only scalars and small arrays on it). */
const WORKER_STACK_BYTES = 256 * 1024;

export interface WasmOptions {
  /** Threads including the calling one (default min(cores, 4)); 1 uses the plain build. */
  threads?: number;
  /**
   * The kernels module instead of the packaged one (by default the relaxed-SIMD build where the
   * engine validates it and it is there, else the SIMD128 one): its URL or bytes, the threaded
   * build when threads > 1.
   */
  wasm?: URL | ArrayBuffer;
  /** How long a worker may take to pick up a job before it is declared dead (ms). */
  ackTimeoutMs?: number;
}

/** The thread count asked for, checked, or the default min(cores, 4). */
export function threadCount(asked: number | undefined, cores: number): number {
  if (asked === undefined) return Math.max(1, Math.min(cores, 4));
  if (!Number.isInteger(asked) || asked < 1 || asked > 64)
    throw new UsageError(`wasm backend: threads must be an integer from 1 to 64, got ${asked}`);
  return asked;
}

/**
 * The packaged modules for this thread count, best first: the relaxed-SIMD build (FMA) where the
 * engine validates relaxed SIMD, then the SIMD128 build every engine with SIMD runs.
 */
export function moduleFiles(threads: number): string[] {
  const base = threads > 1 ? 'alexnet_mt' : 'alexnet';
  return [...(relaxedSimdSupported() ? [`${base}_relaxed.wasm`] : []), `${base}.wasm`];
}

/** The backend (`source`: the module's file name, for diagnostics), with its workers started (not yet ready: the caller waits, blocking or not). */
export function assemble(
  module: WebAssembly.Module,
  threads: number,
  platform: Platform,
  reference: ReferenceBackend,
  source: string,
  opts: PoolOptions = {},
): WasmBackend {
  const { memory, maxBytes } = newMemory(threads > 1);
  const kernels = kernelsOf(instantiate(module, memory));
  const heap = new WasmHeap(memory, kernels.runtime_heap_base(), maxBytes);
  const stackTops: number[] = [];
  for (let t = 1; t < threads; t++) stackTops.push(heap.alloc(WORKER_STACK_BYTES) + WORKER_STACK_BYTES);
  const pool = new ThreadPool(kernels, threads, platform, { module, memory }, stackTops, opts);
  return new WasmBackend(heap, kernels, pool, reference, source);
}
