// The server's routes in-process (fastify's inject, no sockets): answers equal `alexnet predict`'s
// for the same files and weights (raw body, multipart, batch), with a Server-Timing header; /healthz, /readyz before and after
// the model is ready, /metrics; every limit as a JSON error with the right status: 413 body too
// large, 415 not an image or empty, 422 broken image and a 30000×30000 PNG bomb refused from its
// header, 400 bad topk, 404 (no path outside the routes), 503 queue full with Retry-After, 504.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { loadServedModel } from '../src/serve/served_model.js';
import { buildServer, serverReady, type ServeOptions } from '../src/serve/server.js';
import { predictFiles } from '../src/train/predict.js';
import { modelFromWeights } from '../src/train/weights.js';
import { multipart, pngBomb, sample, SAMPLES, smallRgbModel } from './serve_helpers.js';
import { tempDir } from './train_helpers.js';

let weights = '';
let app: FastifyInstance;

const LIMITS: Omit<ServeOptions, 'load'> = {
  maxBatch: 4,
  maxDelayMs: 2,
  maxQueue: 64,
  maxBody: 200_000,
  maxPixels: 4096 * 4096,
  timeoutMs: 30_000,
  decodeWorkers: 2,
};

before(async () => {
  weights = smallRgbModel(tempDir('serve-http'));
  app = buildServer({ ...LIMITS, load: () => loadServedModel(weights) });
  await serverReady(app);
});

after(() => app.close());

interface Body {
  statusCode?: number;
  code?: string;
  message?: string;
  image?: string;
  predictions?: { index: number; class: string; probability: number }[];
  results?: { image: string; predictions: { index: number; probability: number }[] }[];
}

const post = async (url: string, payload: Buffer, contentType = 'image/jpeg', target = app) => {
  const r = await target.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
  return { status: r.statusCode, headers: r.headers, body: r.json<Body>() };
};

test("POST /v1/predict answers predict's classes and probabilities, raw body or multipart; the batch route keeps order and names", async () => {
  const { model, info } = modelFromWeights(weights);
  const expected = await predictFiles(model, info, SAMPLES, 3);
  for (const [i, want] of expected.entries()) {
    const raw = await post('/v1/predict?topk=3', sample(i));
    assert.equal(raw.status, 200, JSON.stringify(raw.body));
    assert.deepEqual(
      raw.body.predictions?.map((p) => [p.index, p.class]),
      want.predictions.map((p) => [p.index, p.class]),
    );
    raw.body.predictions?.forEach((p, k) => assert.ok(Math.abs(p.probability - want.predictions[k]!.probability) < 1e-6));
    // Server-Timing: each stage's milliseconds (the decode and the forward pass take some time).
    const timing = /^decode;dur=(\d+\.\d\d), queue;dur=(\d+\.\d\d), infer;dur=(\d+\.\d\d)$/.exec(String(raw.headers['server-timing']));
    assert.ok(timing, String(raw.headers['server-timing']));
    assert.ok(Number(timing[1]) > 0 && Number(timing[3]) > 0, timing[0]);
  }
  const one = multipart([{ name: 'cat.jpg', bytes: sample(0) }]);
  const single = await post('/v1/predict', one.body, one.contentType);
  assert.equal(single.status, 200);
  assert.equal(single.body.image, 'cat.jpg');
  assert.equal(single.body.predictions?.length, 5, 'topk 5 by default');

  const all = multipart(SAMPLES.map((_, i) => ({ name: `img${i}.jpg`, bytes: sample(i) })));
  const batch = await post('/v1/predict/batch?topk=2', all.body, all.contentType);
  assert.equal(batch.status, 200, JSON.stringify(batch.body));
  assert.deepEqual(
    batch.body.results?.map((r) => r.image),
    SAMPLES.map((_, i) => `img${i}.jpg`),
  );
  batch.body.results?.forEach((r, i) => {
    assert.deepEqual(
      r.predictions.map((p) => p.index),
      expected[i]!.predictions.slice(0, 2).map((p) => p.index),
    );
    r.predictions.forEach((p, k) => assert.ok(Math.abs(p.probability - expected[i]!.predictions[k]!.probability) < 1e-6));
  });
});

test('health, readiness (503 while loading, then 200 with the model) and metrics', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const slow = buildServer({
    ...LIMITS,
    load: async () => {
      await gate;
      return loadServedModel(weights);
    },
  });
  try {
    const ready = serverReady(slow);
    assert.equal((await slow.inject('/healthz')).statusCode, 200);
    const loading = await slow.inject('/readyz');
    assert.equal(loading.statusCode, 503);
    assert.equal(loading.json<{ status: string }>().status, 'loading');
    const early = await post('/v1/predict', sample(0), 'image/jpeg', slow);
    assert.equal(early.status, 503);
    assert.equal(early.body.code, 'not-ready');
    assert.equal(early.headers['retry-after'], '1');
    release();
    await ready;
    const r = await slow.inject('/readyz');
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json<{ model: { arch: string; classes: number } }>().model.classes, 10);
    assert.equal((await post('/v1/predict', sample(1), 'image/jpeg', slow)).status, 200);
    const m = await slow.inject('/metrics');
    assert.equal(m.statusCode, 200);
    assert.match(m.headers['content-type'] as string, /^text\/plain/);
    for (const name of [
      'alexnet_serve_requests_total{route="/v1/predict",status="503"} 1',
      'alexnet_serve_requests_total{route="/v1/predict",status="200"} 1',
      'alexnet_serve_request_duration_seconds_count{route="/v1/predict"} 2',
      'alexnet_serve_batch_size_count ',
      'alexnet_serve_queue_depth 0',
      'alexnet_serve_images_total 1',
      'alexnet_serve_images_per_second ',
      'alexnet_serve_process_resident_memory_bytes ',
    ])
      assert.ok(m.body.includes(name), `/metrics lacks ${name}`);
  } finally {
    release();
    await slow.close();
  }
});

test('limits: 413, 415, 422 (broken, pixel bomb), 400 topk, 404 — each a JSON error naming the problem', async () => {
  const big = Buffer.concat([sample(0), sample(1), sample(2), sample(3), sample(0), sample(1)]);
  assert.ok(big.length > LIMITS.maxBody);
  const tooBig = await post('/v1/predict', big);
  assert.equal(tooBig.status, 413);
  assert.equal(tooBig.body.code, 'body-too-large');
  const parts = multipart([0, 1, 2, 3, 0, 1].map((i) => ({ name: `p${i}.jpg`, bytes: sample(i) })));
  const tooBigBatch = await post('/v1/predict/batch', parts.body, parts.contentType);
  assert.equal(tooBigBatch.status, 413);

  const text = await post('/v1/predict', Buffer.from('{"hello": "world"}'), 'application/json');
  assert.equal(text.status, 415);
  assert.equal(text.body.code, 'not-an-image');
  assert.match(text.body.message ?? '', /unsupported image format/);
  const empty = await app.inject({ method: 'POST', url: '/v1/predict' });
  assert.equal(empty.statusCode, 415);
  assert.equal(empty.json<Body>().code, 'empty');

  const jpeg = sample(0);
  const broken = await post('/v1/predict', jpeg.subarray(0, jpeg.length >> 1));
  assert.equal(broken.status, 422);
  assert.equal(broken.body.code, 'corrupt');
  const garbled = Buffer.from(jpeg);
  garbled.fill(0x55, 700, 5000);
  const bad = await post('/v1/predict', garbled);
  assert.ok([200, 422].includes(bad.status), `a garbled JPEG is decoded with damage or refused, got ${bad.status}`);

  const bomb = pngBomb(30000, 30000);
  assert.ok(bomb.length < LIMITS.maxBody, `bomb is ${bomb.length} bytes`);
  const boom = await post('/v1/predict', bomb, 'image/png');
  assert.equal(boom.status, 422);
  assert.equal(boom.body.code, 'too-large');
  assert.match(boom.body.message ?? '', /30000x30000 exceeds the 16777216-pixel limit/);

  for (const k of ['0', '11', 'abc', '2.5']) {
    const r = await post(`/v1/predict?topk=${k}`, sample(0));
    assert.equal(r.status, 400, k);
    assert.equal(r.body.code, 'bad-topk');
  }
  const notMultipart = await post('/v1/predict/batch', sample(0));
  assert.equal(notMultipart.status, 415);
  // Nothing outside the routes (and, once a web page is registered at /, its folder) is served.
  const escapes = [
    '/../package.json',
    '/%2e%2e/package.json',
    '/..%2fpackage.json',
    '/..%2f..%2fwt%2fserve%2fpackage.json',
    '/v1/../../etc/passwd',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  ];
  for (const url of ['/nothing', ...escapes]) {
    const r = await app.inject(url);
    assert.ok([403, 404].includes(r.statusCode), `${url}: ${r.statusCode}`);
    assert.doesNotMatch(r.body, /"name": "alexnet"|root:x:0:0/, url);
  }
  assert.equal((await app.inject('/nothing')).json<Body>().code, 'not-found');
  // Still healthy and correct afterwards.
  assert.equal((await post('/v1/predict', sample(0))).status, 200);
});

test('queue full is 503 with Retry-After; a request past --timeout-ms is 504; the server answers normally afterwards', async () => {
  // One worker and a one-image queue: of eight images sent together, one is decoded, one waits,
  // and the others find the queue full.
  const tight = buildServer({ ...LIMITS, maxQueue: 1, decodeWorkers: 1, load: () => loadServedModel(weights) });
  try {
    await serverReady(tight);
    const answers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => post('/v1/predict', sample(i), 'image/jpeg', tight)));
    const full = answers.filter((a) => a.status === 503);
    assert.ok(full.length >= 1, `statuses ${answers.map((a) => a.status).join(' ')}`);
    for (const a of full) {
      assert.equal(a.body.code, 'queue-full');
      assert.equal(a.headers['retry-after'], '1');
    }
    assert.ok(
      answers.every((a) => a.status === 200 || a.status === 503),
      answers.map((a) => a.status).join(' '),
    );
    assert.equal((await post('/v1/predict', sample(3), 'image/jpeg', tight)).status, 200);
  } finally {
    await tight.close();
  }
  // Decoding and resizing a 3000×3000 image takes far longer than 1 ms: the deadline passes first.
  const large = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: { r: 90, g: 120, b: 150 } } })
    .jpeg()
    .toBuffer();
  const hurried = buildServer({ ...LIMITS, timeoutMs: 1, load: () => loadServedModel(weights) });
  try {
    await serverReady(hurried);
    const late = await post('/v1/predict', large, 'image/jpeg', hurried);
    assert.equal(late.status, 504);
    assert.equal(late.body.code, 'timeout');
    assert.match(late.body.message ?? '', /--timeout-ms 1/);
  } finally {
    await hurried.close();
  }
});
