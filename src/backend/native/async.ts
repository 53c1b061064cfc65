// Deferred native execution for inference (NativeBackend.runAsync). runDeferred(addon, fn) runs
// `fn` (which builds its result with ordinary synchronous tensor ops) in deferred mode: native ops
// only enqueue their primitive executions (all shapes are known in JS), then the queue runs on the
// libuv thread pool and the promise resolves with fn's result once its data is computed. Calls are
// chained so only one runs at a time (each thread calling oneDNN brings its own OpenMP pool).
// Reading data inside fn (toArray, item, a loss value) flushes the queue synchronously, which is
// correct but blocks.
import type { NativeAddon } from './addon.js';

/** One chain for the process: every native backend shares the addon's queue. */
let chain: Promise<void> = Promise.resolve();

export async function runDeferred<T>(addon: NativeAddon, fn: () => T): Promise<T> {
  const previous = chain;
  let release!: () => void;
  chain = new Promise<void>((resolve) => {
    release = resolve;
  });
  try {
    await previous;
    addon.setDeferred(true);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      addon.setDeferred(false); // runs what was queued, so no half-built state survives
      throw e;
    }
    const done = addon.flushAsync(); // takes the queue
    addon.setDeferred(false);
    await done;
    return result;
  } finally {
    release();
  }
}
