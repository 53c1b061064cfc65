// Dataset statistics the paper's recipe needs, computed once over the training set:
// the per-pixel mean image (subtracted from every input) and the RGB covariance's eigen
// decomposition (for PCA lighting). The mean is saved as .npy and reused across runs.
import { existsSync } from 'node:fs';
import { DataError } from '../errors.js';
import { readNpy, writeNpy } from '../io/npy.js';
import type { Dataset } from './dataset.js';
import { DataLoader, type DataLoaderOptions } from './loader.js';
import { T, type TransformSpec } from './transforms.js';

export interface MeanImage {
  data: Float32Array;
  shape: [number, number, number];
}

export interface StatisticsOptions {
  /** Brings samples to a fixed size in [0, 1] CHW (default: resize 256, center crop 256, toTensor). */
  transforms?: TransformSpec[];
  workers?: number;
  batchSize?: number;
  broken?: DataLoaderOptions['broken'];
}

function loaderFor(dataset: Dataset, options: StatisticsOptions): DataLoader {
  return new DataLoader(dataset, {
    batchSize: options.batchSize ?? 64,
    workers: options.workers ?? 0,
    transforms: options.transforms ?? [T.resize(256), T.centerCrop(256), T.toTensor()],
    broken: options.broken,
  });
}

/** The mean image [C, H, W] over every sample (float64 accumulation). */
export async function computeMeanImage(dataset: Dataset, options: StatisticsOptions = {}): Promise<MeanImage> {
  const loader = loaderFor(dataset, options);
  let sum: Float64Array | null = null;
  let shape: number[] = [];
  let count = 0;
  try {
    for await (const b of loader.iterate(0)) {
      const per = b.x.length / b.y.length;
      if (!sum) {
        sum = new Float64Array(per);
        shape = b.shape.slice(1);
      }
      for (let n = 0; n < b.y.length; n++) {
        const off = n * per;
        for (let i = 0; i < per; i++) sum[i]! += b.x[off + i]!;
      }
      count += b.y.length;
    }
  } finally {
    await loader.close();
  }
  if (!sum || count === 0 || shape.length !== 3) throw new DataError('computeMeanImage: no usable samples');
  const data = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) data[i] = sum[i]! / count;
  return { data, shape: [shape[0]!, shape[1]!, shape[2]!] };
}

export function saveMeanImage(path: string, mean: MeanImage): void {
  writeNpy(path, mean.data, mean.shape);
}

export function loadMeanImage(path: string): MeanImage {
  const arr = readNpy(path);
  if (arr.dtype !== 'float32' || arr.shape.length !== 3) {
    throw new DataError(`${path}: a mean image must be float32 [C, H, W], got ${arr.dtype} [${arr.shape.join(', ')}]`);
  }
  return { data: arr.data, shape: [arr.shape[0]!, arr.shape[1]!, arr.shape[2]!] };
}

/** Loads the mean image from `path`, or computes it over `dataset` and saves it there first. */
export async function meanImageCached(path: string, dataset: Dataset, options: StatisticsOptions = {}): Promise<MeanImage> {
  if (existsSync(path)) return loadMeanImage(path);
  const mean = await computeMeanImage(dataset, options);
  saveMeanImage(path, mean);
  return mean;
}

export interface RgbPca {
  /** Descending eigenvalues of the RGB covariance ([0, 1] pixel scale). */
  eigval: number[];
  /** eigvec[c][j]: component c of eigenvector j (columns are eigenvectors, like the common constants). */
  eigvec: number[][];
}

/** Eigen decomposition of the 3×3 covariance of RGB pixel values over the dataset (every `stride`-th pixel). */
export async function computeRgbPca(dataset: Dataset, options: StatisticsOptions & { stride?: number } = {}): Promise<RgbPca> {
  const loader = loaderFor(dataset, options);
  const stride = options.stride ?? 7;
  const s = new Float64Array(3);
  const ss = new Float64Array(9);
  let count = 0;
  try {
    for await (const b of loader.iterate(0)) {
      const [, C, H = 0, W = 0] = b.shape;
      if (C !== 3) throw new DataError(`computeRgbPca: needs RGB samples, got ${C} channels`);
      const plane = H * W;
      for (let n = 0; n < b.y.length; n++) {
        const off = n * 3 * plane;
        for (let p = 0; p < plane; p += stride) {
          const v = [b.x[off + p], b.x[off + plane + p], b.x[off + 2 * plane + p]];
          for (let i = 0; i < 3; i++) {
            s[i]! += v[i]!;
            for (let j = 0; j < 3; j++) ss[i * 3 + j]! += v[i]! * v[j]!;
          }
          count++;
        }
      }
    }
  } finally {
    await loader.close();
  }
  if (count < 2) throw new DataError('computeRgbPca: no usable samples');
  const cov = Array.from({ length: 3 }, (_, i) =>
    Array.from({ length: 3 }, (_, j) => (ss[i * 3 + j]! - (s[i]! * s[j]!) / count) / (count - 1)),
  );
  return symmetricEigen3(cov);
}

/** Jacobi eigenvalue iteration for a symmetric 3×3 matrix; eigenvalues sorted descending. */
export function symmetricEigen3(m: number[][]): RgbPca {
  const a = m.map((r) => r.slice());
  const v = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = a[0]![1]! ** 2 + a[0]![2]! ** 2 + a[1]![2]! ** 2;
    if (off < 1e-30) break;
    for (const [p, q] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ] as const) {
      if (Math.abs(a[p]![q]!) < 1e-300) continue;
      const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const sn = t * c;
      for (let k = 0; k < 3; k++) {
        const akp = a[k]![p]!;
        const akq = a[k]![q]!;
        a[k]![p] = c * akp - sn * akq;
        a[k]![q] = sn * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[p]![k]!;
        const aqk = a[q]![k]!;
        a[p]![k] = c * apk - sn * aqk;
        a[q]![k] = sn * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[k]![p]!;
        const vkq = v[k]![q]!;
        v[k]![p] = c * vkp - sn * vkq;
        v[k]![q] = sn * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[j]![j]! - a[i]![i]!);
  return { eigval: order.map((i) => a[i]![i]!), eigvec: [0, 1, 2].map((r) => order.map((i) => v[r]![i]!)) };
}
