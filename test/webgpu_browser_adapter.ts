// The WebGPU adapter a page gets, as data: probed in the page (this file imports nothing, so pages
// and workers bundle it, and page.evaluate can run probeAdapter), named and classed in Node.

/** What a page reports about its WebGPU adapter (GPUAdapterInfo as plain data), or why it has none. */
export type AdapterReport =
  { vendor: string; architecture: string; device: string; description: string; fallback: boolean } | { none: string };

/** Page-side probe (passed to page.evaluate, so self-contained): navigator.gpu's adapter, as data. */
export async function probeAdapter(): Promise<AdapterReport> {
  if (!('gpu' in navigator)) return { none: 'navigator.gpu is undefined (WebGPU not enabled in this browser)' };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { none: 'navigator.gpu.requestAdapter() gave no adapter' };
  const i = adapter.info;
  const fallback = (i as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, fallback };
}

/** 'google swiftshader (software)' or 'nvidia ampere (NVIDIA A100)' for tables and diagnostics. */
export function adapterName(a: AdapterReport): string {
  if ('none' in a) return `no adapter: ${a.none}`;
  const name = [a.vendor, a.architecture, a.device, a.description && `(${a.description})`].filter(Boolean).join(' ');
  return isSoftwareAdapter(a) ? `${name} (software)` : name;
}

/** SwiftShader (or any fallback adapter) computes on the CPU: its timings only compare peers on it. */
export function isSoftwareAdapter(a: AdapterReport): boolean {
  return !('none' in a) && (a.fallback || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${a.architecture} ${a.description} ${a.device}`));
}
