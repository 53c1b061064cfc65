// The server's Prometheus metrics (prom-client, in a registry of its own so that several servers
// in one process do not share counters): requests by route and status, request latency, batch
// sizes, queue depth, images answered and images per second over the last few seconds, and
// prom-client's process metrics (memory, CPU, event-loop lag).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Images per second is averaged over this window. */
const RATE_WINDOW_MS = 10_000;

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  latency: Histogram<'route'>;
  batchSize: Histogram;
  images: Counter;
  /** Counts `n` images answered now (for the per-second rate). */
  answered(n: number): void;
}

/** The metrics, with `queueDepth()` read at each scrape. */
export function createMetrics(queueDepth: () => number, now: () => number = () => performance.now()): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'alexnet_serve_' });
  const requests = new Counter({
    name: 'alexnet_serve_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'alexnet_serve_request_duration_seconds',
    help: 'Time from request to response, by route',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'alexnet_serve_batch_size',
    help: 'Images per forward pass',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const images = new Counter({ name: 'alexnet_serve_images_total', help: 'Images classified', registers: [registry] });
  new Gauge({
    name: 'alexnet_serve_queue_depth',
    help: 'Images waiting to be decoded or batched',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  // Recent answers as [time, count] pairs, trimmed to the window at each scrape or answer.
  const recent: [number, number][] = [];
  const trim = (t: number): void => {
    while (recent.length && t - recent[0]![0] > RATE_WINDOW_MS) recent.shift();
  };
  new Gauge({
    name: 'alexnet_serve_images_per_second',
    help: `Images classified per second over the last ${RATE_WINDOW_MS / 1000} s`,
    registers: [registry],
    collect() {
      const t = now();
      trim(t);
      this.set(recent.reduce((s, [, n]) => s + n, 0) / (RATE_WINDOW_MS / 1000));
    },
  });
  const answered = (n: number): void => {
    const t = now();
    images.inc(n);
    recent.push([t, n]);
    trim(t);
  };
  return { registry, requests, latency, batchSize, images, answered };
}
