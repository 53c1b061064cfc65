// Bundles the browser library with esbuild (`npm run build:browser`, and the end of `npm run
// build`): src/browser.ts → dist/browser/alexnet.js, ESM, minified, with a source map. When the
// wasm backend is present it also bundles its thread worker (src/backend/wasm/worker_main.ts →
// dist/browser/wasm_worker.js) and copies its kernels (dist/wasm/*.wasm) next to the bundle, with
// assets_bundle.ts standing in for assets.ts so that both are found there; the webgpu backend's
// GPU worker goes there too (src/backend/webgpu/worker_main.ts → webgpu_worker.js). Prints each file's
// size, raw and gzipped. Other scripts bundle their own entries the same way with bundleEntry.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** The repository (package) root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WASM_SRC = join(ROOT, 'src', 'backend', 'wasm');

/** The package's '#…' imports (package.json "imports") resolved to the TypeScript source of their "browser" target. */
const sourceImports = {
  name: 'alexnet-source-imports',
  setup(b) {
    const imports = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).imports ?? {};
    b.onResolve({ filter: /^#/ }, (args) => {
      const target = imports[args.path]?.browser;
      if (typeof target !== 'string' || !args.importer.endsWith('.ts')) return undefined;
      return { path: join(ROOT, target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts')) };
    });
  },
};

/** The wasm backend's asset locations for a bundle: assets_bundle.ts (next to the bundle) instead of assets.ts (the tsc layout). */
const bundleAssets = {
  name: 'alexnet-bundle-assets',
  setup(b) {
    const assets = join(WASM_SRC, 'assets.ts');
    b.onResolve({ filter: /(^|\/)assets\.js$/ }, (args) => {
      if (resolve(args.resolveDir, args.path.replace(/\.js$/, '.ts')) !== assets) return undefined;
      return { path: join(WASM_SRC, 'assets_bundle.ts') };
    });
  },
};

/** '312.4 KiB'. */
function size(bytes) {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** A file's size raw and gzipped (level 9, as a server would send it), and the line that prints them. */
export function fileSize(file) {
  const data = readFileSync(file);
  const bytes = data.length;
  const gzipBytes = gzipSync(data, { level: 9 }).length;
  return { file, bytes, gzipBytes, line: `${relative(ROOT, file)}  ${size(bytes)} (${size(gzipBytes)} gzip)` };
}

/**
 * Bundles one entry for the browser: ESM, minified, ES2022, a source map, the package's '#…'
 * imports and the wasm assets resolved for a bundle. Extra esbuild options (plugins, define,
 * loaders…) are merged in. Returns the output's size and esbuild's metafile.
 */
export async function bundleEntry({ entry, outfile, plugins = [], ...options }) {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    ...options,
    plugins: [sourceImports, bundleAssets, ...plugins],
  });
  return { ...fileSize(outfile), metafile: result.metafile };
}

/**
 * Puts the wasm backend's assets into `outdir` beside a bundle, where they exist: its thread
 * worker bundled as wasm_worker.js, and the kernels (dist/wasm/*.wasm) copied. Returns their sizes.
 */
export async function copyWasmAssets(outdir) {
  const outputs = [];
  const worker = join(WASM_SRC, 'worker_main.ts');
  if (existsSync(worker)) outputs.push(await bundleEntry({ entry: worker, outfile: join(outdir, 'wasm_worker.js') }));
  const kernels = join(ROOT, 'dist', 'wasm');
  if (existsSync(kernels)) {
    for (const name of readdirSync(kernels).filter((n) => n.endsWith('.wasm'))) {
      copyFileSync(join(kernels, name), join(outdir, name));
      outputs.push(fileSize(join(outdir, name)));
    }
  }
  return outputs;
}

/** The webgpu backend's GPU worker's file name beside a bundle. */
export const WEBGPU_WORKER = 'webgpu_worker.js';

/**
 * Puts the webgpu backend's GPU worker into `outdir` beside a bundle, bundled as webgpu_worker.js
 * (where the bundles' loaders look for it: src/browser.ts, src/web/engine/worker.ts). Returns its size.
 */
export async function bundleWebGpuWorker(outdir) {
  const worker = join(ROOT, 'src', 'backend', 'webgpu', 'worker_main.ts');
  return existsSync(worker) ? [await bundleEntry({ entry: worker, outfile: join(outdir, WEBGPU_WORKER) })] : [];
}

/**
 * Builds dist/browser (or `outdir`): the library bundle, and the wasm backend's worker and
 * kernels where they exist. Prints the sizes unless `quiet`; returns them.
 */
export async function bundleBrowser({ outdir = join(ROOT, 'dist', 'browser'), quiet = false } = {}) {
  mkdirSync(outdir, { recursive: true });
  const outputs = [await bundleEntry({ entry: join(ROOT, 'src', 'browser.ts'), outfile: join(outdir, 'alexnet.js') })];
  outputs.push(...(await copyWasmAssets(outdir)), ...(await bundleWebGpuWorker(outdir)));
  if (!quiet) for (const o of outputs) console.log(o.line);
  return outputs;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundleBrowser();
