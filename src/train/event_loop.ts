// Yielding to the event loop from a long computation. An async loop whose awaited promises are
// already resolved (the in-process loader, --workers 0, or batches prefetched by workers) runs on
// microtasks only, so signal handlers (macrotasks) never get to run; one setImmediate per step
// lets them in, for microseconds.

/** Resolves after the event loop's pending callbacks (signals, timers, I/O) have run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
