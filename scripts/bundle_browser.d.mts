// Types of bundle_browser.mjs, for the TypeScript that imports it (tests, other build scripts).
import type { BuildOptions, Metafile } from 'esbuild';

export declare const ROOT: string;

export interface BundleOutput {
  file: string;
  bytes: number;
  gzipBytes: number;
  /** 'dist/browser/alexnet.js  312.4 KiB (86.1 KiB gzip)'. */
  line: string;
}

export declare function fileSize(file: string): BundleOutput;

export declare function bundleEntry(
  options: { entry: string; outfile: string } & Omit<BuildOptions, 'entryPoints' | 'outfile'>,
): Promise<BundleOutput & { metafile: Metafile }>;

export declare function bundleBrowser(options?: { outdir?: string; quiet?: boolean }): Promise<BundleOutput[]>;

export declare function copyWasmAssets(outdir: string): Promise<BundleOutput[]>;

export declare const WEBGPU_WORKER: string;

export declare function bundleWebGpuWorker(outdir: string): Promise<BundleOutput[]>;
