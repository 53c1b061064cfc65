// The server's request log: fastify's own request lines replaced by one line per request (pino's
// JSON through fastify's logger) with the method, URL, status, time, number of images and, for a
// request that failed, the error's code and message.
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { HttpError } from './http_errors.js';

/** Fastify's request logging replaced by one line per request: method, URL, status, time, images, the error. */
export class OneLinePerRequest extends LogController {
  constructor(
    private readonly errors: WeakMap<FastifyRequest, HttpError>,
    private readonly imageCounts: WeakMap<FastifyRequest, number>,
  ) {
    super({ disableRequestLogging: true });
  }

  override requestCompleted(_error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const err = this.errors.get(request);
    request.log.info(
      {
        method: request.method,
        url: request.url.slice(0, 200),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
        images: this.imageCounts.get(request),
        ...(err ? { code: err.code, error: err.message } : {}),
      },
      'request',
    );
  }
}
