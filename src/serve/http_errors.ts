// What the server answers when it cannot classify: every failure becomes a status code and a JSON
// body { statusCode, code, message } naming the problem. The client's faults are 4xx (413 body too
// large, 415 not an image, 422 a broken image or too many pixels), load is 503 with Retry-After
// (queue full, shutting down, not ready), a request that took too long is 504, a client that hung
// up is logged as 499, and anything else is a bug: 500 with the message logged.
import { ClosingError, QueueFullError } from './batcher.js';
import { ImageRejected } from './decode_pool.js';

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Seconds after which a retry may succeed (503). */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The request's deadline passed before its answer was ready. */
export class RequestTimeout extends Error {
  override name = 'RequestTimeout';
}

/** The client closed its connection before the answer: nothing is sent. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

const IMAGE_STATUS: Record<string, number> = { 'not-an-image': 415, empty: 415, corrupt: 422, 'too-large': 422 };

/** The HTTP answer for an error thrown while handling a request. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ImageRejected) return new HttpError(IMAGE_STATUS[err.kind] ?? 422, err.kind, err.message);
  if (err instanceof QueueFullError) return new HttpError(503, 'queue-full', `${err.message}: retry later`, 1);
  if (err instanceof ClosingError) return new HttpError(503, 'shutting-down', err.message, 1);
  if (err instanceof RequestTimeout) return new HttpError(504, 'timeout', err.message);
  // Nobody reads this answer; 499 (nginx's "client closed request") keeps it out of the 5xx counts.
  if (err instanceof ClientGone) return new HttpError(499, 'client-gone', err.message);
  // Fastify's and its plugins' own client errors (body too large, bad multipart, bad URL).
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.statusCode === 413 ? 'body-too-large' : typeof e.code === 'string' ? e.code : 'bad-request';
    return new HttpError(e.statusCode, code, typeof e.message === 'string' ? e.message : 'bad request');
  }
  return new HttpError(500, 'internal', err instanceof Error ? err.message : String(err));
}
