// The HTTP inference server (fastify): POST /v1/predict (one image, raw body or multipart) and
// /v1/predict/batch (several multipart images) answer top-k classes with probabilities, the same
// numbers as `alexnet predict`; GET /healthz, /readyz (ready once the weights are loaded and
// warmed up) and /metrics (Prometheus). Images are decoded on worker threads (./decode_pool.ts),
// then wait in the dynamic batcher (./batcher.ts) for a forward pass that runs off the event loop
// (./served_model.ts). Every limit answers a JSON error (./http_errors.ts). Closing the app
// (SIGTERM in the CLI) stops accepting, finishes every request under way, then stops the workers.
import { createServer } from 'node:http';
import type { Writable } from 'node:stream';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { topPredictions, type Prediction } from '../train/predict.js';
import { DynamicBatcher, type Ticket } from './batcher.js';
import { DecodePool, type DecodedInput } from './decode_pool.js';
import { ClientGone, HttpError, RequestTimeout, toHttpError } from './http_errors.js';
import { createMetrics } from './metrics.js';
import { OneLinePerRequest } from './request_log.js';
import { requestImages, type RequestImage } from './request_images.js';
import { predictBatch, warmUp, type ServedModel } from './served_model.js';

export interface ServeOptions {
  /** Loads the model (called once, after the server starts listening, or by serverReady). */
  load: () => ServedModel | Promise<ServedModel>;
  /** Most images in one forward pass (1: batching off). */
  maxBatch: number;
  /** Longest an image waits for others to join its batch (ms). */
  maxDelayMs: number;
  /** Most images waiting for a worker, and most waiting for a batch: past either, 503. */
  maxQueue: number;
  /** Largest request body in bytes (413). */
  maxBody: number;
  /** Images whose header declares more pixels are refused before decoding (422). */
  maxPixels: number;
  /** A request not answered within this many ms is answered 504; a body not received within it, 408. */
  timeoutMs: number;
  /** Decode worker threads. */
  decodeWorkers: number;
  /** Most images in one batch request. */
  maxImagesPerRequest?: number;
  /** One JSON line per request to this stream (the CLI's --json-log: stdout); else only errors, on stderr. */
  logStream?: Writable;
}

/** One image's probabilities, and when its batch ran (performance.now() ms). */
interface BatchOutput {
  probs: Float64Array;
  startedAt: number;
  endedAt: number;
}

/** One image's answer, with the time it spent in each stage (ms): the Server-Timing header's. */
interface Classified {
  probs: Float64Array;
  timing: StageTimes;
}

type StageTimes = Record<'decode' | 'queue' | 'infer', number>;

interface Serving {
  served: ServedModel;
  pool: DecodePool;
  batcher: DynamicBatcher<DecodedInput, BatchOutput>;
}

interface State {
  serving: Serving | null;
  loading: Promise<void> | null;
  closing: boolean;
}

const states = new WeakMap<FastifyInstance, { state: State; start: () => Promise<void> }>();

/** Resolves once `app`'s model is loaded and warmed up (starting the load if it has not started). */
export function serverReady(app: FastifyInstance): Promise<void> {
  const entry = states.get(app);
  if (!entry) throw new Error('serverReady: not an app made by buildServer');
  return entry.start();
}

/** The server, with its routes; the model loads once it listens (or when serverReady is called). */
export function buildServer(opts: ServeOptions): FastifyInstance {
  const errors = new WeakMap<FastifyRequest, HttpError>();
  const imageCounts = new WeakMap<FastifyRequest, number>();
  const app = Fastify({
    // Without a log stream, only bugs are logged (a JSON line with the stack on stderr).
    logger: opts.logStream ? { level: 'info', stream: opts.logStream } : { level: 'error', stream: process.stderr },
    logController: new OneLinePerRequest(errors, imageCounts),
    bodyLimit: opts.maxBody,
    // Requests that reach an open keep-alive connection while closing are still answered.
    return503OnClosing: false,
    // A client's X-Request-Id (else a counter) names the request in its log line.
    requestIdHeader: 'x-request-id',
    forceCloseConnections: 'idle',
    // Node's own timeouts: a client that does not send its whole request within the timeout gets 408.
    serverFactory: (handler) =>
      createServer(
        { requestTimeout: opts.timeoutMs, headersTimeout: Math.min(opts.timeoutMs, 60_000), connectionsCheckingInterval: 1000 },
        handler,
      ),
  });
  const state: State = { serving: null, loading: null, closing: false };
  const metrics = createMetrics(() => (state.serving ? state.serving.batcher.depth + state.serving.pool.depth : 0));
  const maxImages = opts.maxImagesPerRequest ?? 256;

  const start = (): Promise<void> => {
    state.loading ??= (async () => {
      const served = await opts.load();
      const shape = served.info;
      await warmUp(served, [...new Set([1, opts.maxBatch])]);
      if (state.closing) return; // stopped while loading: start no workers
      const pool = new DecodePool(
        { info: served.info, transforms: served.transforms, maxPixels: opts.maxPixels },
        { workers: opts.decodeWorkers, maxQueue: opts.maxQueue },
      );
      const batcher = new DynamicBatcher<DecodedInput, BatchOutput>({
        maxBatch: opts.maxBatch,
        maxDelayMs: opts.maxDelayMs,
        maxQueue: opts.maxQueue,
        // A full batch may start while another runs: its input is assembled during that pass.
        maxInFlight: 2,
        run: async (inputs) => {
          let startedAt = performance.now();
          const out = await predictBatch(served, inputs, () => (startedAt = performance.now()));
          const endedAt = performance.now();
          metrics.answered(inputs.length);
          return out.map((probs) => ({ probs, startedAt, endedAt }));
        },
        onBatch: (n) => metrics.batchSize.observe(n),
      });
      state.serving = { served, pool, batcher };
      app.log.info({ arch: shape.arch, classes: shape.numClasses, inputSize: shape.inputSize, weights: served.source }, 'ready');
    })();
    return state.loading;
  };
  states.set(app, { state, start });
  app.addHook('onListen', async () => {
    // Not awaited: /healthz answers while the weights load; serverReady reports a failure.
    setImmediate(() => start().catch(() => {}));
  });
  app.addHook('preClose', async () => {
    state.closing = true;
  });
  // After the listener closed and every request under way was answered: finish the queue, stop the workers.
  app.addHook('onClose', async () => {
    const s = state.serving;
    if (!s) return;
    await s.batcher.close();
    await s.pool.close();
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  void app.register(multipart, {
    limits: { fileSize: opts.maxBody, files: maxImages, fields: 16, parts: maxImages + 16, headerPairs: 100 },
  });

  app.setErrorHandler((err, request, reply) => {
    const h = toHttpError(err);
    errors.set(request, h);
    if (h.statusCode >= 500 && h.code === 'internal') request.log.error({ err }, 'internal error');
    if (h.retryAfter !== undefined) void reply.header('Retry-After', String(h.retryAfter));
    return reply.code(h.statusCode).send({ statusCode: h.statusCode, code: h.code, message: h.message });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ statusCode: 404, code: 'not-found', message: `no route ${request.method} ${request.url.slice(0, 200)}` }),
  );
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const s = state.serving;
    if (!s || state.closing) return reply.code(503).send({ status: state.closing ? 'shutting-down' : 'loading' });
    const { arch, numClasses, inputSize } = s.served.info;
    return { status: 'ready', model: { arch, classes: numClasses, inputSize, weights: s.served.source } };
  });
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  /**
   * Classifies `images` with one deadline; the answer per image, in order. The reply's
   * Server-Timing header tells each stage's time (the longest of the images' for several).
   */
  const classify = async (
    request: FastifyRequest,
    reply: FastifyReply,
    images: RequestImage[],
  ): Promise<{ image: string; predictions: Prediction[] }[]> => {
    const s = state.serving;
    if (!s) throw new HttpError(503, 'not-ready', 'the model is still loading', 1);
    const topk = parseTopk(request.query, s.served.classes.length);
    imageCounts.set(request, images.length);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new RequestTimeout(`no answer within --timeout-ms ${opts.timeoutMs}`)), opts.timeoutMs);
    const gone = (): void => {
      if (!reply.raw.writableFinished) controller.abort(new ClientGone('the client closed the connection'));
    };
    reply.raw.once('close', gone);
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true }),
    );
    aborted.catch(() => {});
    try {
      const work = Promise.all(images.map((img) => classifyOne(s, img, controller.signal)));
      work.catch(() => {});
      const answers = await Promise.race([work, aborted]);
      void reply.header('Server-Timing', serverTiming(answers.map((a) => a.timing)));
      const c = s.served.classes.length;
      return answers.map((a, i) => ({
        image: images[i]?.name ?? '',
        predictions: topPredictions(a.probs, 0, c, topk, s.served.classes),
      }));
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', gone);
      controller.abort(new ClientGone('answered')); // any of this request's images still queued leave the queues
    }
  };

  app.post('/v1/predict', async (request, reply) => {
    const images = await requestImages(request, 1, opts.maxBody);
    const [result] = await classify(request, reply, images);
    return result;
  });
  app.post('/v1/predict/batch', async (request, reply) => {
    if (!request.isMultipart()) throw new HttpError(415, 'not-multipart', 'send the images as multipart/form-data file parts');
    const images = await requestImages(request, maxImages, opts.maxBody);
    return { results: await classify(request, reply, images) };
  });
  return app;
}

/** One image: decoded on a worker, then batched; the announcement lets an idle model wait for it. */
async function classifyOne(s: Serving, img: RequestImage, signal: AbortSignal): Promise<Classified> {
  const ticket: Ticket = s.batcher.announce();
  const t0 = performance.now();
  let decoded: DecodedInput;
  try {
    decoded = await s.pool.decode(img.bytes, img.name, signal);
  } catch (err) {
    ticket.withdraw();
    throw err;
  }
  const t1 = performance.now();
  try {
    const out = await s.batcher.submit(decoded, signal, ticket);
    return { probs: out.probs, timing: { decode: t1 - t0, queue: out.startedAt - t1, infer: out.endedAt - out.startedAt } };
  } finally {
    // Answered, refused or aborted: the batch that needed the image has run, or none will.
    decoded.release();
  }
}

/** The Server-Timing header: each stage's longest time over the images, in ms. */
function serverTiming(times: StageTimes[]): string {
  const stages = ['decode', 'queue', 'infer'] as const;
  return stages.map((k) => `${k};dur=${Math.max(0, ...times.map((t) => t[k])).toFixed(2)}`).join(', ');
}

/** ?topk=K: an integer from 1 to the number of classes (default 5, fewer for smaller models). */
function parseTopk(query: unknown, classes: number): number {
  const raw = (query as Record<string, unknown> | undefined)?.topk;
  if (raw === undefined) return Math.min(5, classes);
  const k = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || k < 1 || k > classes)
    throw new HttpError(400, 'bad-topk', `topk must be an integer from 1 to ${classes}, got '${String(raw).slice(0, 40)}'`);
  return k;
}
