// IDX files (the MNIST format): a 4-byte magic (0, 0, type code, number of dimensions), the
// dimensions as big-endian uint32, then the elements big-endian. Gzipped files (as shipped by
// MNIST, Fashion-MNIST and Debian's dataset-fashion-mnist) are recognised by their gzip magic.
// IdxDataset pairs an [N, H, W] (or [N, H, W, C]) uint8 images file with an [N] labels file.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import type { Dataset, DatasetSpec } from './dataset.js';
import { u8Image, type U8Image } from './image.js';

export type IdxArray =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array }
  | { dtype: 'int16'; shape: number[]; data: Int16Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array };

const TYPES: Record<number, { dtype: IdxArray['dtype']; size: number }> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** Reads an IDX file (gzipped or not). Every size is checked against the bytes present. */
export function readIdx(path: string): IdxArray {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (err) {
      throw new DataError(`${path}: corrupt gzip data (${(err as Error).message})`);
    }
  }
  return parseIdx(raw, path);
}

export function parseIdx(buf: Uint8Array, name = '<buffer>'): IdxArray {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new DataError(`${name}: not an IDX file (bad magic)`);
  const type = TYPES[buf[2]];
  if (!type) throw new DataError(`${name}: unknown IDX element type 0x${buf[2].toString(16)}`);
  const ndim = buf[3];
  if (ndim === 0 || buf.length < 4 + 4 * ndim) throw new DataError(`${name}: truncated IDX header (${ndim} dimensions)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const offset = 4 + 4 * ndim;
  const need = count * type.size;
  if (buf.length - offset !== need) {
    throw new DataError(`${name}: IDX shape [${shape.join(', ')}] needs ${need} data bytes, file has ${buf.length - offset}`);
  }
  switch (type.dtype) {
    case 'uint8':
      return { dtype: 'uint8', shape, data: buf.slice(offset, offset + need) };
    case 'int8':
      return { dtype: 'int8', shape, data: new Int8Array(buf.slice(offset, offset + need).buffer) };
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(offset + 2 * i, false);
      return { dtype: 'int16', shape, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(offset + 4 * i, false);
      return { dtype: 'int32', shape, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, false);
      return { dtype: 'float32', shape, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(offset + 8 * i, false);
      return { dtype: 'float64', shape, data };
    }
  }
}

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's dataset-fashion-mnist package installs the four files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export class IdxDataset implements Dataset {
  readonly classes: string[];
  private readonly images: Uint8Array;
  private readonly labels: Int32Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly length: number;

  constructor(
    readonly imagesPath: string,
    readonly labelsPath: string,
    classes?: string[],
  ) {
    const images = readIdx(imagesPath);
    const labels = readIdx(labelsPath);
    if (images.dtype !== 'uint8' || (images.shape.length !== 3 && images.shape.length !== 4)) {
      throw new DataError(
        `${imagesPath}: expected uint8 images [N, H, W] or [N, H, W, C], got ${images.dtype} [${images.shape.join(', ')}]`,
      );
    }
    if (labels.shape.length !== 1 || labels.dtype === 'float32' || labels.dtype === 'float64') {
      throw new DataError(`${labelsPath}: expected integer labels [N], got ${labels.dtype} [${labels.shape.join(', ')}]`);
    }
    if (labels.shape[0] !== images.shape[0]) {
      throw new DataError(`${labelsPath}: ${labels.shape[0]} labels for ${images.shape[0]} images in ${imagesPath}`);
    }
    this.images = images.data;
    this.labels = Int32Array.from(labels.data);
    this.length = images.shape[0];
    this.height = images.shape[1];
    this.width = images.shape[2];
    this.channels = images.shape[3] ?? 1;
    let maxLabel = -1;
    for (const l of this.labels) {
      if (l < 0) throw new DataError(`${labelsPath}: negative label ${l}`);
      maxLabel = Math.max(maxLabel, l);
    }
    this.classes = classes ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
    if (maxLabel >= this.classes.length) throw new DataError(`${labelsPath}: label ${maxLabel} but only ${this.classes.length} classes`);
  }

  /** Fashion-MNIST's train (60k) or test (10k) split from `dir` (Debian's location by default). */
  static fashionMnist(split: 'train' | 'test', dir = DEBIAN_FASHION_MNIST_DIR): IdxDataset {
    const prefix = split === 'train' ? 'train' : 't10k';
    return new IdxDataset(join(dir, `${prefix}-images-idx3-ubyte.gz`), join(dir, `${prefix}-labels-idx1-ubyte.gz`), FASHION_MNIST_CLASSES);
  }

  label(index: number): number {
    return this.labels[index];
  }

  sourceOf(index: number): string {
    return `${this.imagesPath}#${index}`;
  }

  load(index: number): U8Image {
    const n = this.height * this.width * this.channels;
    return u8Image(this.images.slice(index * n, (index + 1) * n), this.width, this.height, this.channels);
  }

  spec(): DatasetSpec {
    return { kind: 'idx', images: this.imagesPath, labels: this.labelsPath, classes: this.classes };
  }
}
