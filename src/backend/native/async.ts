// Asynchronous native execution for inference. runAsync(fn) runs `fn` (which builds its result
// with ordinary synchronous tensor ops) in deferred mode: native ops only enqueue their primitive
// executions (all shapes are known in JS), then the queue runs on the libuv thread pool and the
// promise resolves with fn's result once its data is computed. Calls are queued so only one runs
// at a time (each thread calling oneDNN brings its own OpenMP pool). Where the addon is not
// loaded, fn simply runs synchronously. Reading data inside fn (toArray, item, a loss value)
// flushes the queue synchronously, which is correct but blocks.
import { loadedAddon } from './addon.js';

let chain: Promise<void> = Promise.resolve();

export async function runAsync<T>(fn: () => T): Promise<T> {
  const addon = loadedAddon();
  if (!addon) return fn();
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
