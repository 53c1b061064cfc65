// Bundles the web page (src/web) with esbuild into dist/web: app.js (the page), engine.js (its
// worker), index.html and app.css; prints each file's size. Run by `npm run build:web`.
//
// Temporary bridge until the platform-neutral core lands (issue 12, helper "core"): a few library
// modules the page reaches still import Node built-ins for their path-based functions, which the
// page never calls; the `node-builtins` plugin below resolves those imports to a module whose every
// use throws, and the image addon's switch (process.env.ALEXNET_NATIVE_IMAGE, read before the
// transforms' TypeScript path is taken) is defined as "0". Remove both once src/browser.ts's core
// imports no Node built-in.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

/** `node:*` imports → a CommonJS proxy that throws when anything of it is used. */
const nodeBuiltins = {
  name: 'node-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      loader: 'js',
      contents: `const fail = () => { throw new Error(${JSON.stringify(args.path + ' is not available in the browser')}); };
module.exports = new Proxy({}, { get: (_t, key) => (key === '__esModule' ? false : fail) });`,
    }));
  },
};

export async function bundleWeb({ quiet = false } = {}) {
  mkdirSync(out, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { app: 'src/web/main.ts', engine: 'src/web/engine/worker.ts' },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    keepNames: true, // the models' type names (Conv2d, ReLU, …) come from their classes' names
    plugins: [nodeBuiltins],
    define: { 'process.env.ALEXNET_NATIVE_IMAGE': '"0"' },
    logLevel: quiet ? 'error' : 'warning',
  });
  for (const f of ['index.html', 'app.css']) copyFileSync(join(root, 'src', 'web', f), join(out, f));
  if (!quiet) {
    for (const f of ['app.js', 'engine.js', 'index.html', 'app.css']) {
      const bytes = statSync(join(out, f)).size;
      const gz = gzipSync(readFileSync(join(out, f))).length;
      console.log(`dist/web/${f}: ${(bytes / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzipped)`);
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleWeb();
