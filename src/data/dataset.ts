// The Dataset contract every source implements (image folders, IDX files, .npy arrays, prepared
// files), and DatasetSpec: the plain-data description a worker thread rebuilds the same dataset
// from (workers cannot receive objects with methods).
import type { Pixels } from './image.js';
import type { DecodeOptions, RegionPicker } from './decode.js';

export interface Dataset {
  /** Number of samples. */
  readonly length: number;
  /** Class names, index = label. */
  readonly classes: readonly string[];
  /** Label of sample `index` (known without decoding). */
  label(index: number): number;
  /** Where sample `index` comes from, for logs and errors: a file path, or `file[#index]`. */
  sourceOf(index: number): string;
  /** Decoded pixels of sample `index`, a fresh copy the caller may modify. Throws BadImageError. */
  load(index: number): Promise<Pixels> | Pixels;
  /**
   * Optional: decode sample `index` already cut to `pick`'s region and resized (image files only:
   * JPEGs decode just that region). Used when a pipeline starts with Resize or RandomResizedCrop.
   */
  loadResizedCrop?(index: number, pick: RegionPicker): Promise<Pixels>;
  /** Plain-data description to rebuild this dataset elsewhere (a worker thread). */
  spec(): DatasetSpec;
  /** Releases file handles, if any. */
  close?(): void;
}

/** list[index] for a sample index; one out of range is a caller's bug (a RangeError). */
export function sampleEntry<T>(list: ArrayLike<T>, index: number, what: string): T {
  const v = Number.isInteger(index) && index >= 0 ? list[index] : undefined;
  if (v === undefined) throw new RangeError(`${what}: sample index ${index} outside [0, ${list.length})`);
  return v;
}

export type DatasetSpec =
  | { kind: 'imageFolder'; root: string; files: string[]; labels: Int32Array; classes: string[]; decode: DecodeOptions }
  | { kind: 'idx'; images: string; labels: string; classes: string[] }
  | { kind: 'npy'; x: string; y: string; classes: string[] }
  | { kind: 'arrays'; x: Uint8Array | Float32Array; shape: number[]; layout: 'NHWC' | 'NCHW'; y: Int32Array; classes: string[] }
  | { kind: 'prepared'; path: string };
