// IDX files (the MNIST format): a 4-byte magic (0, 0, type code, number of dimensions), the
// dimensions as big-endian uint32, then the elements big-endian. Gzipped files (as shipped by
// MNIST, Fashion-MNIST and Debian's dataset-fashion-mnist) are recognised by their gzip magic.
// The header is read (inflated) first and its byte count checked against a limit; the data is
// then inflated up to exactly that count, so a small gzip that inflates to gigabytes costs no
// more memory than its header's honest size.
// IdxDataset pairs an [N, H, W] (or [N, H, W, C]) uint8 images file with an [N] labels file.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { sampleEntry, type Dataset, type DatasetSpec } from './dataset.js';
import { u8Image, type U8Image } from './image.js';

export type IdxArray =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array }
  | { dtype: 'int16'; shape: number[]; data: Int16Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array };

const TYPES: Record<number, { dtype: IdxArray['dtype']; size: number } | undefined> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** The largest IDX data readIdx accepts by default (2 GiB: Fashion-MNIST's train images are 47 MB). */
export const MAX_IDX_BYTES = 2 ** 31;

/** What an IDX header says: element type, shape, and where the data starts and how long it is. */
interface IdxHeader {
  dtype: IdxArray['dtype'];
  elementSize: number;
  shape: number[];
  count: number;
  dataOffset: number;
  dataBytes: number;
}

/**
 * Parses the header at the start of `head`; null when `head` is too short to hold it all.
 * Throws DataError for a bad magic or type, or data larger than `maxBytes`.
 */
function parseIdxHeader(head: Uint8Array, name: string, maxBytes: number): IdxHeader | null {
  if (head.length < 4) return null;
  const [zero0, zero1, code, ndim] = head;
  if (zero0 !== 0 || zero1 !== 0) throw new DataError(`${name}: not an IDX file (bad magic)`);
  const type = TYPES[code ?? -1];
  if (!type) throw new DataError(`${name}: unknown IDX element type 0x${(code ?? 0).toString(16)}`);
  if (!ndim) throw new DataError(`${name}: IDX header with 0 dimensions`);
  const dataOffset = 4 + 4 * ndim;
  if (head.length < dataOffset) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const dataBytes = count * type.size;
  if (dataBytes > maxBytes) {
    throw new DataError(`${name}: IDX shape [${shape.join(', ')}] needs ${dataBytes} data bytes, over the limit of ${maxBytes}`);
  }
  return { dtype: type.dtype, elementSize: type.size, shape, count, dataOffset, dataBytes };
}

export interface ReadIdxOptions {
  /** Refuse files whose header implies more data bytes than this (default MAX_IDX_BYTES). */
  maxBytes?: number;
}

/**
 * Reads an IDX file (gzipped or not). The header is checked first; the data must then be exactly
 * the size the header implies (a gzip is never inflated past it).
 */
export function readIdx(path: string, options: ReadIdxOptions = {}): IdxArray {
  const maxBytes = options.maxBytes ?? MAX_IDX_BYTES;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    const size = fstatSync(fd).size;
    const magic = Buffer.alloc(Math.min(size, 4 + 4 * 255));
    readSync(fd, magic, 0, magic.length, 0);
    if (magic[0] === 0x1f && magic[1] === 0x8b) return parseIdx(inflateIdx(readFileSync(fd), path, maxBytes), path, maxBytes);
    const header = parseIdxHeader(magic, path, maxBytes);
    if (header && size - header.dataOffset !== header.dataBytes) throw sizeMismatch(path, header, size - header.dataOffset);
    return parseIdx(readFileSync(fd), path, maxBytes);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  } finally {
    closeSync(fd);
  }
}

function sizeMismatch(name: string, h: IdxHeader, have: number | string): DataError {
  return new DataError(`${name}: IDX shape [${h.shape.join(', ')}] needs ${h.dataBytes} data bytes, file has ${have}`);
}

/**
 * Inflates a gzipped IDX file: first a prefix of it, enough for the header, then the whole stream
 * but never past the size the header implies (one byte more, to notice data beyond it).
 */
function inflateIdx(gz: Uint8Array, name: string, maxBytes: number): Uint8Array {
  const corrupt = (err: unknown): DataError => new DataError(`${name}: corrupt gzip data (${(err as Error).message})`);
  // Deflate inflates at most ~1032× its input: 16 KiB of input give at most 17 MB, and the
  // header (≤ 1024 bytes) comes within the first few hundred bytes of any sane gzip.
  let header: IdxHeader | null = null;
  for (let take = 256; header === null; take *= 4) {
    if (take > 16384) throw new DataError(`${name}: no IDX header in the first 16 KiB of gzip data`);
    let head: Buffer;
    try {
      head = gunzipSync(gz.subarray(0, take), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw corrupt(err);
    }
    header = parseIdxHeader(head, name, maxBytes);
    if (header === null && take >= gz.length) throw new DataError(`${name}: truncated IDX header (${head.length} bytes)`);
  }
  const want = header.dataOffset + header.dataBytes;
  try {
    return gunzipSync(gz, { maxOutputLength: want + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') throw corrupt(err);
    throw sizeMismatch(name, header, `more: the gzip data inflates past ${want} bytes`);
  }
}

/** Parses IDX bytes; every size is checked against the bytes present. */
export function parseIdx(buf: Uint8Array, name = '<buffer>', maxBytes = MAX_IDX_BYTES): IdxArray {
  const header = parseIdxHeader(buf, name, maxBytes);
  if (!header) throw new DataError(`${name}: truncated IDX header (${buf.length} bytes)`);
  const { shape, count, dataOffset: offset, dataBytes: need } = header;
  if (buf.length - offset !== need) throw sizeMismatch(name, header, buf.length - offset);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (header.dtype) {
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
    const [length = 0, height = 0, width = 0, channels = 1] = images.shape;
    this.length = length;
    this.height = height;
    this.width = width;
    this.channels = channels;
    if (this.height * this.width * this.channels === 0) {
      throw new DataError(
        `${imagesPath}: images of ${this.height}x${this.width}x${this.channels} hold no pixels (shape [${images.shape.join(', ')}])`,
      );
    }
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
    return sampleEntry(this.labels, index, this.imagesPath);
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
