// Bundles the web page (src/web) into dist/web: app.js (the page), engine.js (its worker, which
// runs the library), index.html and app.css; prints each file's size. Run by `npm run build:web`.
// The library side goes through bundle_browser.mjs's bundleEntry, so the page gets the same
// platform-neutral core as dist/browser (the package's '#…' imports resolved for the browser) and
// the wasm backend's worker and kernels and the webgpu backend's GPU worker beside engine.js.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEntry, bundleWebGpuWorker, copyWasmAssets, fileSize } from './bundle_browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web');

export async function bundleWeb({ quiet = false } = {}) {
  mkdirSync(out, { recursive: true });
  const options = {
    absWorkingDir: root,
    legalComments: 'none',
    keepNames: true, // the models' type names (Conv2d, ReLU, …) come from their classes' names
    logLevel: quiet ? 'error' : 'warning',
  };
  const outputs = [
    await bundleEntry({ entry: 'src/web/main.ts', outfile: join(out, 'app.js'), ...options }),
    await bundleEntry({ entry: 'src/web/engine/worker.ts', outfile: join(out, 'engine.js'), ...options }),
  ];
  for (const f of ['index.html', 'app.css']) {
    copyFileSync(join(root, 'src', 'web', f), join(out, f));
    outputs.push(fileSize(join(out, f)));
  }
  outputs.push(...(await copyWasmAssets(out)), ...(await bundleWebGpuWorker(out)));
  if (!quiet) for (const o of outputs) console.log(o.line);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await bundleWeb();
