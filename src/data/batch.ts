// Turning a list of dataset indices into one batch: load (decode) each sample, apply the
// transforms with that sample's own generator, and pack the results into one contiguous array.
// Runs the same in a worker thread and in the main thread (workers: 0), which is what makes the
// output independent of the worker count. Broken inputs are returned as failures, not thrown,
// so that the main thread applies the skip/strict policy in index order.
import { DataError } from '../errors.js';
import type { Generator } from '../random.js';
import { BadImageError, type BadInputKind, type RegionPicker } from './decode.js';
import type { Dataset } from './dataset.js';
import type { Pixels } from './image.js';
import { sampleGenerator } from './seeds.js';
import { applyTransforms, hw, randomResizedCropBox, resizeTarget, type TransformSpec } from './transforms.js';

export interface SampleFailure {
  index: number;
  path: string;
  kind: BadInputKind;
  message: string;
}

export interface BatchResult {
  /** float32 when the transforms end in a float image (ToTensor…), uint8 when they end in decoded bytes. */
  dtype: 'float32' | 'uint8';
  /** Samples one after another: [n, C, H, W] float (or [n, crops, C, H, W]), or [n, H, W, C] uint8. */
  x: Float32Array | Uint8Array;
  /** Shape of one sample. */
  sampleShape: number[];
  y: Int32Array;
  /** Dataset indices of the samples kept, in batch order. */
  indices: Int32Array;
  failures: SampleFailure[];
}

/** Thrown for errors that are not a broken file (a transform that cannot apply, a bug); names the file. */
export class SampleError extends DataError {
  override name = 'SampleError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

type Settled = { ok: true; value: Pixels } | { ok: false; error: unknown };

function settle(load: () => Promise<Pixels> | Pixels): Promise<Settled> {
  return Promise.resolve()
    .then(load)
    .then(
      (value): Settled => ({ ok: true, value }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
}

function sampleLayout(out: Pixels | Pixels[]): { dtype: 'float32' | 'uint8'; shape: number[]; parts: Pixels[] } {
  const parts = Array.isArray(out) ? out : [out];
  const [first] = parts;
  if (!first) throw new Error('the transforms produced no image');
  const one = first.kind === 'f32' ? [first.channels, first.height, first.width] : [first.height, first.width, first.channels];
  for (const p of parts) {
    if (p.kind !== first.kind || p.channels !== first.channels || p.height !== first.height || p.width !== first.width) {
      throw new Error('the crops of one sample differ in shape');
    }
  }
  return { dtype: first.kind === 'f32' ? 'float32' : 'uint8', shape: Array.isArray(out) ? [parts.length, ...one] : one, parts };
}

/**
 * Loads and transforms the samples `indices` of `epoch`. `onSample(i)` is called before each
 * sample is worked on (a worker records it so that its death can name the file).
 */
export async function processBatch(
  dataset: Dataset,
  transforms: readonly TransformSpec[],
  indices: Int32Array,
  seed: number,
  epoch: number,
  onSample?: (index: number) => void,
  scratch?: ArrayBuffer,
): Promise<BatchResult> {
  const n = indices.length;
  const failures: SampleFailure[] = [];
  const keptIdx: number[] = [];
  let dtype: 'float32' | 'uint8' = 'float32';
  let sampleShape: number[] = [];
  let sampleSize = 0;
  let x: Float32Array | Uint8Array | null = null;
  // Resize or RandomResizedCrop first: the decoder cuts and resizes (JPEGs: only the region is decoded).
  const first = transforms[0];
  const native = (first?.type === 'randomResizedCrop' || first?.type === 'resize') && dataset.loadResizedCrop ? first : null;
  const rest = native ? transforms.slice(1) : transforms;
  const rngs = new Map<number, Generator>();
  const start = (index: number): Promise<Settled> => {
    const rng = sampleGenerator(seed, epoch, index);
    rngs.set(index, rng);
    if (!native || !dataset.loadResizedCrop) return settle(() => dataset.load(index));
    let pick: RegionPicker;
    if (native.type === 'resize') {
      const size = native.size;
      pick = (w, h) => ({ box: { top: 0, left: 0, height: h, width: w }, ...resizeTarget(size, w, h), resampler: native.resampler });
    } else {
      const [th, tw] = hw(native.size);
      pick = (w, h) => ({
        box: randomResizedCropBox(w, h, native.scale, native.ratio, rng),
        width: tw,
        height: th,
        resampler: native.resampler,
      });
    }
    return settle(() => (dataset.loadResizedCrop as NonNullable<Dataset['loadResizedCrop']>)(index, pick));
  };
  // Decode one sample ahead: sharp decodes on the thread pool while this thread transforms.
  let next = n > 0 ? start(indices[0]!) : null;
  for (let k = 0; k < n; k++) {
    const index = indices[k]!;
    onSample?.(index);
    const loaded: Settled = await (next as Promise<Settled>);
    next = k + 1 < n ? start(indices[k + 1]!) : null;
    const rng = rngs.get(index) as Generator;
    rngs.delete(index);
    if (!loaded.ok) {
      const err = loaded.error;
      if (err instanceof BadImageError) {
        failures.push({ index, path: err.path, kind: err.kind, message: err.message });
        continue;
      }
      throw new SampleError(dataset.sourceOf(index), `${dataset.sourceOf(index)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    let layout;
    // Once the batch array exists, the last transform may write straight into this sample's slot.
    const slot = x instanceof Float32Array ? x.subarray(keptIdx.length * sampleSize, (keptIdx.length + 1) * sampleSize) : undefined;
    try {
      layout = sampleLayout(applyTransforms(rest, loaded.value, rng, slot));
    } catch (err) {
      throw new SampleError(dataset.sourceOf(index), `${dataset.sourceOf(index)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (x === null) {
      dtype = layout.dtype;
      sampleShape = layout.shape;
      sampleSize = sampleShape.reduce((a, b) => a * b, 1);
      // A recycled buffer (Batch.release) saves allocating and page-faulting a fresh one per batch.
      const bytes = n * sampleSize * (dtype === 'float32' ? 4 : 1);
      if (scratch && scratch.byteLength >= bytes) {
        x = dtype === 'float32' ? new Float32Array(scratch, 0, n * sampleSize) : new Uint8Array(scratch, 0, n * sampleSize);
      } else {
        x = dtype === 'float32' ? new Float32Array(n * sampleSize) : new Uint8Array(n * sampleSize);
      }
    } else if (layout.dtype !== dtype || layout.shape.join() !== sampleShape.join()) {
      throw new SampleError(
        dataset.sourceOf(index),
        `${dataset.sourceOf(index)}: transformed to ${layout.dtype} [${layout.shape.join(', ')}] but the batch holds ${dtype} [${sampleShape.join(', ')}]; add a resize/crop so that every sample has one size`,
      );
    }
    let off = keptIdx.length * sampleSize;
    for (const part of layout.parts) {
      if (part.data !== slot) x.set(part.data, off);
      off += part.data.length;
    }
    keptIdx.push(index);
  }
  const kept = keptIdx.length;
  let packed: Float32Array | Uint8Array;
  if (x === null) packed = new Float32Array(0);
  else packed = kept === n ? x : x.subarray(0, kept * sampleSize);
  const y = new Int32Array(kept);
  for (let i = 0; i < kept; i++) y[i] = dataset.label(keptIdx[i]!);
  return { dtype, x: packed, sampleShape, y, indices: Int32Array.from(keptIdx), failures };
}
