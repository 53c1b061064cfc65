// The dynamic batcher (src/serve/batcher.ts) with a fake model and a hand-driven clock: a batch
// starts at max batch, at max delay, or at once when the model is idle and nobody else is coming;
// one batch runs at a time (with maxInFlight 2, a second only when full); the queue is bounded; aborted requests leave the queue; a failing
// batch fails only its own requests; close() finishes what is queued and refuses new work.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClosingError, DynamicBatcher, QueueFullError, type Clock } from '../src/serve/batcher.js';

/** A clock whose time moves only when the test says so. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time forward by `ms`, firing the timers that come due. */
  advance(ms: number): void {
    this.t += ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((x) => x !== due);
      due.fn();
    }
  }
  get pending(): number {
    return this.timers.length;
  }
}

/** A fake model: records each batch and answers when the test releases it (x → 10x). */
function fakeModel(): { run: (xs: number[]) => Promise<number[]>; batches: number[][]; release: (err?: Error) => void } {
  const batches: number[][] = [];
  const waiting: ((err?: Error) => void)[] = [];
  return {
    batches,
    run: (xs) => {
      batches.push(xs);
      return new Promise((resolve, reject) => waiting.push((err) => (err ? reject(err) : resolve(xs.map((x) => 10 * x)))));
    },
    release: (err) => {
      const next = waiting.shift();
      assert.ok(next, 'no batch is running');
      next(err);
    },
  };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('an idle model with nobody announced runs a lone request at once (no delay added)', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 4, maxDelayMs: 5, maxQueue: 10, run: m.run, clock });
  const r = b.submit(1);
  assert.deepEqual(m.batches, [[1]]);
  m.release();
  assert.equal(await r, 10);
});

test('with requests announced, the batch waits until max delay, then runs what is there', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 4, maxDelayMs: 5, maxQueue: 10, run: m.run, clock });
  const t1 = b.announce();
  const t2 = b.announce();
  const r1 = b.submit(1, undefined, t1);
  clock.advance(3);
  assert.deepEqual(m.batches, [], 'still waiting for the announced request');
  const r2 = b.submit(2, undefined, t2);
  // Both announced requests arrived: nobody else is coming, so the batch goes now, before 5 ms.
  assert.deepEqual(m.batches, [[1, 2]]);
  m.release();
  assert.deepEqual(await Promise.all([r1, r2]), [10, 20]);

  const t3 = b.announce();
  b.announce(); // decoding, never submitted in this test
  const r3 = b.submit(3, undefined, t3);
  clock.advance(4.9);
  assert.deepEqual(m.batches.length, 1);
  clock.advance(0.1);
  assert.deepEqual(m.batches[1], [3], 'the oldest waited max delay');
  m.release();
  assert.equal(await r3, 30);
});

test('a full batch runs at once; one batch at a time; the rest waits for the next', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 3, maxDelayMs: 5, maxQueue: 10, run: m.run, clock });
  const tickets = Array.from({ length: 8 }, () => b.announce());
  const rs = [1, 2, 3, 4, 5].map((x, i) => b.submit(x, undefined, tickets[i]));
  assert.deepEqual(m.batches, [[1, 2, 3]]);
  assert.equal(b.depth, 2);
  clock.advance(10);
  assert.equal(m.batches.length, 1, 'no second batch while one runs');
  m.release();
  await settle();
  // The waiting two are overdue (waited 10 ms): they go as soon as the model is free.
  assert.deepEqual(m.batches[1], [4, 5]);
  m.release();
  assert.deepEqual(await Promise.all(rs), [10, 20, 30, 40, 50]);
  // A withdrawn announcement (its decoding failed) no longer holds a batch back.
  const r6 = b.submit(6, undefined, tickets[5]);
  assert.equal(m.batches.length, 2);
  tickets[6]!.withdraw();
  assert.equal(m.batches.length, 2);
  tickets[7]!.withdraw();
  assert.deepEqual(m.batches[2], [6]);
  m.release();
  assert.equal(await r6, 60);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('maxInFlight 2: a full batch starts while one runs, a partial one waits; never more than two; close() waits for both', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 2, maxDelayMs: 5, maxQueue: 10, run: m.run, clock, maxInFlight: 2 });
  const tickets = Array.from({ length: 7 }, () => b.announce());
  const rs = [1, 2, 3].map((x, i) => b.submit(x, undefined, tickets[i]));
  assert.deepEqual(m.batches, [[1, 2]]);
  clock.advance(10);
  assert.equal(m.batches.length, 1, 'a partial batch does not start while one runs, however long it waited');
  rs.push(b.submit(4, undefined, tickets[3]));
  assert.deepEqual(
    m.batches,
    [
      [1, 2],
      [3, 4],
    ],
    'a full one does',
  );
  rs.push(...[5, 6, 7].map((x, i) => b.submit(x, undefined, tickets[4 + i])));
  assert.equal(m.batches.length, 2, 'never a third');
  m.release();
  await settle();
  assert.deepEqual(m.batches[2], [5, 6], 'the next full batch starts when one ends');
  const closed = b.close();
  m.release();
  await settle();
  assert.equal(m.batches.length, 3, 'a partial batch waits for the one still running, even when closing');
  m.release();
  await settle();
  assert.deepEqual(m.batches[3], [7], 'closing runs the rest once no batch runs');
  m.release();
  await closed;
  assert.deepEqual(await Promise.all(rs), [10, 20, 30, 40, 50, 60, 70]);
});

test('the queue is bounded: past maxQueue waiting requests, QueueFullError', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 1, maxDelayMs: 0, maxQueue: 2, run: m.run, clock });
  const running = b.submit(1); // runs now: not in the queue
  const q = [b.submit(2), b.submit(3)];
  await assert.rejects(b.submit(4), QueueFullError);
  assert.equal(b.depth, 2);
  m.release();
  await settle();
  m.release();
  await settle();
  m.release();
  assert.deepEqual(await Promise.all([running, ...q]), [10, 20, 30]);
});

test('an aborted request leaves the queue; one aborted inside a running batch just loses its answer', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 2, maxDelayMs: 5, maxQueue: 10, run: m.run, clock });
  const a = new AbortController();
  const c = new AbortController();
  const keep = b.announce();
  const r1 = b.submit(1, a.signal);
  const r2 = b.submit(2, c.signal);
  assert.deepEqual(m.batches, [[1, 2]]);
  c.abort(new Error('client gone'));
  const waiting = new AbortController();
  const r3 = b.submit(3, waiting.signal);
  waiting.abort(new Error('timed out'));
  await assert.rejects(r3, /timed out/);
  assert.equal(b.depth, 0);
  m.release();
  assert.equal(await r1, 10);
  assert.equal(await r2, 20, 'a running batch is not cut short');
  keep.withdraw();
  await assert.rejects(b.submit(9, AbortSignal.abort(new Error('already'))), /already/);
  assert.equal(m.batches.length, 1);
});

test('a failing batch rejects its own requests only; the next batch runs', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const b = new DynamicBatcher<number, number>({ maxBatch: 1, maxDelayMs: 0, maxQueue: 10, run: m.run, clock });
  const r1 = b.submit(1);
  const r2 = b.submit(2);
  m.release(new Error('backend failed'));
  await assert.rejects(r1, /backend failed/);
  await settle();
  m.release();
  assert.equal(await r2, 20);
});

test('close() runs what is queued without waiting, refuses new requests, and resolves when all are answered', async () => {
  const clock = new ManualClock();
  const m = fakeModel();
  const sizes: number[] = [];
  const b = new DynamicBatcher<number, number>({
    maxBatch: 2,
    maxDelayMs: 1000,
    maxQueue: 10,
    run: m.run,
    clock,
    onBatch: (n) => sizes.push(n),
  });
  b.announce(); // a request still decoding would make the batch wait 1 s
  const r1 = b.submit(1);
  assert.deepEqual(m.batches, []);
  let closed = false;
  const done = b.close().then(() => {
    closed = true;
  });
  assert.deepEqual(m.batches, [[1]], 'closing runs the queue at once');
  await assert.rejects(b.submit(2), ClosingError);
  await settle();
  assert.equal(closed, false, 'close waits for the running batch');
  m.release();
  await done;
  assert.equal(await r1, 10);
  assert.deepEqual(sizes, [1]);
});
