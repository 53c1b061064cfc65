// The web page's static site as a fastify plugin: the bundled page (dist/web), the sample images,
// ImageNet's class names and the Fashion-MNIST IDX files, every response with the headers that
// make the page cross-origin isolated (COOP same-origin, COEP require-corp, CORP same-origin), which
// SharedArrayBuffer and so WebAssembly threads need. `alexnet web` serves it alone; `alexnet serve`
// can register it next to its API. Files come only from fixed folders (@fastify/static refuses
// paths that leave them) or an allow-list of names, so no request reaches anything else.
import { createReadStream, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { DEBIAN_FASHION_MNIST_DIR } from '../data/idx.js';

/** The four Fashion-MNIST files the page's Train tab loads, under their usual (gzipped) names. */
export const FASHION_MNIST_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
] as const;

export interface WebSiteOptions {
  /** The bundled page (default: the package's dist/web, made by `npm run build:web`). */
  webRoot?: string;
  /** Fashion-MNIST's IDX files (default: Debian's /usr/share/datasets/fashion-mnist). */
  dataDir?: string;
}

const here = (rel: string): string => fileURLToPath(new URL(rel, import.meta.url));
/** dist/src/server → the package root. */
const PACKAGE_ROOT = here('../../../');

export const DEFAULT_WEB_ROOT = join(PACKAGE_ROOT, 'dist', 'web');
const SAMPLES_DIR = join(PACKAGE_ROOT, 'data', 'samples');
const CLASSES_FILE = 'imagenet_classes.json';

/** Registers the page at `/`, samples at `/samples/`, class names at `/data/`, IDX files at `/fashion-mnist/`. */
export async function registerWebSite(app: FastifyInstance, opts: WebSiteOptions = {}): Promise<void> {
  const webRoot = opts.webRoot ?? DEFAULT_WEB_ROOT;
  const dataDir = opts.dataDir ?? DEBIAN_FASHION_MNIST_DIR;

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Embedder-Policy', 'require-corp');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    return payload;
  });

  await app.register(fastifyStatic, {
    root: SAMPLES_DIR,
    prefix: '/samples/',
    decorateReply: false,
    allowedPath: (path) => /^\/[a-z0-9_-]+\.jpg$/.test(path),
  });
  if (!existsSync(join(webRoot, 'index.html'))) {
    // A checkout where the page was not bundled: say so instead of a bare 404.
    app.get('/', async (_request, reply) =>
      reply
        .code(503)
        .type('text/plain')
        .send(`the web page is not built (no ${join(webRoot, 'index.html')}): run npm run build:web\n`),
    );
  } else {
    await app.register(fastifyStatic, { root: webRoot, prefix: '/', index: 'index.html', decorateReply: false });
  }
  app.get('/data/' + CLASSES_FILE, async (_request, reply) =>
    reply.type('application/json').send(createReadStream(join(PACKAGE_ROOT, 'data', CLASSES_FILE))),
  );

  // The IDX files by name from an allow-list; a missing file is a 404 whose text the page shows.
  app.get<{ Params: { name: string } }>('/fashion-mnist/:name', async (request, reply) => {
    const name = FASHION_MNIST_FILES.find((f) => f === request.params.name);
    if (!name) return reply.code(404).type('text/plain').send(`no such Fashion-MNIST file: ${request.params.name}\n`);
    if (!existsSync(join(dataDir, name)))
      return reply
        .code(404)
        .type('text/plain')
        .send(
          `Fashion-MNIST is not in ${dataDir} (no ${name}); start the server with --data DIR, or install Debian's fashion-mnist files\n`,
        );
    return reply.type('application/octet-stream').send(createReadStream(join(dataDir, name)));
  });
}
