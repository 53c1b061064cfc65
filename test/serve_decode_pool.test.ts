// The server's decode pool (src/serve/decode_pool.ts): worker threads give the same input tensor
// as preprocessing in this thread, in shared slots that are reused once released (and in buffers
// of their own past the slot limit); a plain JPEG reaching an idle pool is decoded from this
// thread, to the same tensor; an image the decoder refuses is an ImageRejected naming why;
// the waiting queue is bounded and an aborted image leaves it; workers that cannot start fail each
// image with the reason instead of being respawned forever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { QueueFullError } from '../src/serve/batcher.js';
import { DecodePool, ImageRejected } from '../src/serve/decode_pool.js';
import { InputSlots } from '../src/serve/input_slots.js';
import { preprocessor, type PreprocessSpec } from '../src/serve/preprocess.js';
import { materialize } from '../src/train/data.js';
import { evalTransformsFor } from '../src/train/predict.js';
import type { ModelInfo } from '../src/train/weights.js';
import { sample } from './serve_helpers.js';

const info: ModelInfo = { arch: 'alexnet', numClasses: 1000, inChannels: 3, inputSize: 224, classes: [], evalTransforms: [] };
const spec: PreprocessSpec = { info, transforms: materialize(evalTransformsFor(info), () => ''), maxPixels: 4096 * 4096 };

test('workers give the same tensor as preprocessing here; refused images say why', async () => {
  const pool = new DecodePool(spec, { workers: 2, maxQueue: 8, maxInline: 0 });
  try {
    const local = preprocessor(spec);
    const [a, b] = await Promise.all([pool.decode(sample(0), 'cat.jpg'), pool.decode(sample(2), 'rocket.jpg')]);
    assert.equal(pool.decodedInline, 0);
    assert.deepEqual(a.shape, [3, 224, 224]);
    assert.deepEqual(a.x, (await local(sample(0), 'cat.jpg')).x);
    assert.deepEqual(b.x, (await local(sample(2), 'rocket.jpg')).x);
    // Small Buffers are views into Node's shared pool: the pool sends a copy, never the shared memory.
    const neighbour = Buffer.from('a neighbour in the shared pool');
    const note = Buffer.from('not an image at all');
    assert.equal(note.buffer, neighbour.buffer, 'both in the shared pool');
    await assert.rejects(
      pool.decode(note, 'note.txt'),
      (e: unknown) => e instanceof ImageRejected && e.kind === 'not-an-image' && /^note\.txt: /.test(e.message),
    );
    assert.equal(neighbour.toString(), 'a neighbour in the shared pool');
    assert.equal(note.toString(), 'not an image at all');
    await assert.rejects(
      pool.decode(sample(1).subarray(0, 5000), 'cut.jpg'),
      (e: unknown) => e instanceof ImageRejected && e.kind === 'corrupt',
    );
  } finally {
    await pool.close();
  }
});

test('slots: at most maxSlots, each shared once when made, reused after release, never released twice', () => {
  const shared: number[] = [];
  const slots = new InputSlots(6, 2, (id, buffer) => {
    assert.equal(buffer.byteLength, 24);
    shared.push(id);
  });
  const a = slots.acquire()!;
  const b = slots.acquire()!;
  assert.equal(slots.acquire(), null);
  assert.deepEqual(shared, [0, 1]);
  assert.equal(slots.inUse, 2);
  slots.release(a);
  assert.throws(() => slots.release(a), /released twice/);
  assert.equal(slots.acquire(), a);
  slots.release(b);
  assert.equal(slots.inUse, 1);
  assert.deepEqual(shared, [0, 1], 'no new slot was made');
});

test('decoded images stay in their slots until released; past the slot limit they travel on their own', async () => {
  const pool = new DecodePool(spec, { workers: 2, maxQueue: 8, maxSlots: 1, maxInline: 0 });
  try {
    const local = preprocessor(spec);
    const [a, b] = await Promise.all([pool.decode(sample(0), 'cat.jpg'), pool.decode(sample(2), 'rocket.jpg')]);
    assert.equal(pool.held, 1, 'one image in the one slot, the other in a buffer of its own');
    assert.equal([a, b].filter((d) => d.x.buffer instanceof SharedArrayBuffer).length, 1);
    assert.deepEqual(a.x, (await local(sample(0), 'cat.jpg')).x);
    assert.deepEqual(b.x, (await local(sample(2), 'rocket.jpg')).x);
    a.release();
    b.release();
    a.release(); // a second release changes nothing
    assert.equal(pool.held, 0);
    const c = await pool.decode(sample(1), 'coffee.jpg');
    assert.ok(c.x.buffer instanceof SharedArrayBuffer, 'the slot is used again');
    assert.deepEqual(c.x, (await local(sample(1), 'coffee.jpg')).x);
    c.release();
  } finally {
    await pool.close();
  }
});

test('plain JPEGs are decoded from this thread, a bounded number at once, to the same tensor; others go to the workers', async () => {
  const pool = new DecodePool(spec, { workers: 1, maxQueue: 8, maxInline: 2 });
  try {
    const local = preprocessor(spec);
    const alone = await pool.decode(sample(0), 'cat.jpg');
    assert.equal(pool.decodedInline, 1);
    assert.deepEqual(alone.x, (await local(sample(0), 'cat.jpg')).x);
    alone.release();
    // Three at once: two start inline, the third waits in the queue for inline room (not a worker).
    const three = [pool.decode(sample(1), 'coffee.jpg'), pool.decode(sample(2), 'rocket.jpg'), pool.decode(sample(0), 'cat.jpg')];
    assert.equal(pool.depth, 1);
    const [a, b, c] = await Promise.all(three);
    assert.equal(pool.decodedInline, 4);
    assert.deepEqual(a!.x, (await local(sample(1), 'coffee.jpg')).x);
    assert.deepEqual(b!.x, (await local(sample(2), 'rocket.jpg')).x);
    assert.deepEqual(c!.x, (await local(sample(0), 'cat.jpg')).x);
    for (const d of [a!, b!, c!]) d.release();
    // A PNG takes sharp and TypeScript: never on this thread.
    await pool.decode(await sharp(sample(3)).png().toBuffer(), 'astronaut.png').then((d) => d.release());
    assert.equal(pool.decodedInline, 4);
    assert.equal(pool.held, 0);
  } finally {
    await pool.close();
  }
  // The image's own faults are ImageRejected inline too (here: more pixels than allowed).
  const strict = new DecodePool({ ...spec, maxPixels: 1000 }, { workers: 1, maxQueue: 8 });
  try {
    await assert.rejects(strict.decode(sample(0), 'cat.jpg'), (e: unknown) => e instanceof ImageRejected && e.kind === 'too-large');
    assert.equal(strict.decodedInline, 1);
    assert.equal(strict.held, 0);
  } finally {
    await strict.close();
  }
});

test('the waiting queue is bounded and an aborted image leaves it', async () => {
  const pool = new DecodePool(spec, { workers: 1, maxQueue: 2, maxInline: 0 });
  try {
    const first = pool.decode(sample(0), 'a'); // taken by the worker at once
    const controller = new AbortController();
    const second = pool.decode(sample(1), 'b', controller.signal);
    const third = pool.decode(sample(2), 'c');
    await assert.rejects(pool.decode(sample(3), 'd'), QueueFullError);
    assert.equal(pool.depth, 2);
    controller.abort(new Error('gone'));
    await assert.rejects(second, /gone/);
    assert.equal(pool.depth, 1);
    assert.equal((await first).shape[0], 3);
    assert.equal((await third).shape[0], 3);
  } finally {
    await pool.close();
  }
});

test('workers that cannot start fail every image with the reason, and are not respawned', async () => {
  const pool = new DecodePool({ ...spec, transforms: null } as unknown as PreprocessSpec, { workers: 2, maxQueue: 8 });
  try {
    await assert.rejects(pool.decode(sample(0), 'a'), /decode worker/);
    await assert.rejects(pool.decode(sample(0), 'b'), /decode workers cannot start/);
  } finally {
    await pool.close();
  }
});
