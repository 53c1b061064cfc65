// What the two browser benchmarks (bench/browser, bench/webgpu) share: bundling a page and its
// workers with esbuild, serving it with the model assets and the peers' files from 127.0.0.1
// (cross-origin isolated, so wasm threads and SharedArrayBuffer work, and never cached), and
// comparing logits.
import * as esbuild from 'esbuild';
import Fastify, { type FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Bundles `entryPoints` (output name → source file) for Chromium into `dir`. */
export async function bundleBenchPage(dir: string, entryPoints: Record<string, string>): Promise<void> {
  await esbuild.build({
    entryPoints,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    outdir: dir,
    logLevel: 'error',
  });
}

/** Serves each [prefix, folder] of `mounts` and answers `/` with `index`; resolves with the address and a close. */
export async function serveBench(
  mounts: [string, string][],
  index: (reply: FastifyReply) => FastifyReply,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = Fastify();
  app.addHook('onSend', async (_req, reply) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    reply.header('Cache-Control', 'no-store');
  });
  mounts.forEach(([prefix, root], i) => app.register(fastifyStatic, { root, prefix, decorateReply: i === 0 }));
  app.get('/', (_req, reply) => index(reply));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send()); // no icon: no 404 in the log
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: address, close: () => app.close() };
}

/** Largest |a[i] − b[i]| over the shorter of the two. */
export function maxAbsDiff(a: number[], b: number[]): number {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
