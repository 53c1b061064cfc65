// Chromium with WebGPU for the tests and the WebGPU benchmark. Headless Chromium here has no GPU,
// and `--disable-gpu` (the plain flags, CHROMIUM_ARGS) leaves navigator.gpu without an adapter;
// without it, `--enable-unsafe-webgpu` gives SwiftShader's Vulkan (a software adapter, vendor
// "google", architecture "swiftshader"), or a real GPU's adapter where the machine has one
// (`--enable-features=Vulkan` lets headless Linux Chromium use it).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CHROMIUM_ARGS, chromiumSkip, launchBrowser } from './browser_helpers.js';
import { probeAdapter } from './webgpu_browser_adapter.js';

export { adapterName, isSoftwareAdapter, probeAdapter, type AdapterReport } from './webgpu_browser_adapter.js';

export const CHROMIUM_WEBGPU_ARGS = [
  ...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'),
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
];

/**
 * `skip` for node:test: false where Chromium with CHROMIUM_WEBGPU_ARGS gets a WebGPU adapter (asked
 * from a page on 127.0.0.1: WebGPU needs a secure context), else why the test cannot run.
 */
export async function webGpuSkip(): Promise<string | false> {
  if (chromiumSkip) return chromiumSkip;
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>probe</p>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await launchBrowser(CHROMIUM_WEBGPU_ARGS);
  try {
    await browser.page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const adapter = await browser.page.evaluate(probeAdapter);
    const why = 'none' in adapter ? `Chromium gives no WebGPU adapter here: ${adapter.none}` : false;
    if (why) process.stdout.write(`# skipping WebGPU browser tests: ${why}\n`);
    return why;
  } finally {
    await browser.close();
    server.close();
  }
}
