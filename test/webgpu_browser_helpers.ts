// Chromium with WebGPU for the tests and the WebGPU benchmark. Headless Chromium here has no GPU,
// and `--disable-gpu` (the plain flags, CHROMIUM_ARGS) leaves navigator.gpu without an adapter;
// without it, `--enable-unsafe-webgpu` gives SwiftShader's Vulkan (a software adapter, vendor
// "google", architecture "swiftshader"), or a real GPU's adapter where the machine has one
// (`--enable-features=Vulkan` lets headless Linux Chromium use it).
import { CHROMIUM_ARGS } from './browser_helpers.js';
export { adapterName, isSoftwareAdapter, probeAdapter, type AdapterReport } from './webgpu_browser_adapter.js';

export const CHROMIUM_WEBGPU_ARGS = [
  ...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'),
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
];
