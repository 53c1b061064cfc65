// IDX files (the MNIST format): a 4-byte magic (0, 0, type code, number of dimensions), the
// dimensions as big-endian uint32, then the elements big-endian. Gzipped files (as shipped by
// MNIST, Fashion-MNIST and Debian's dataset-fashion-mnist) are recognised by their gzip magic.
// The header is read (inflated) first and its byte count checked against a limit; the data is
// then inflated up to exactly that count, so a small gzip that inflates to gigabytes costs no
// more memory than its header's honest size.
// The format itself (parsing bytes) is idx_format.ts, shared with the web page.
// IdxDataset pairs an [N, H, W] (or [N, H, W, C]) uint8 images file with an [N] labels file.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { FASHION_MNIST_CLASSES, MAX_IDX_BYTES, parseIdx, parseIdxHeader, sizeMismatch, type IdxArray, type IdxHeader } from './idx_format.js';
import { sampleEntry, type Dataset, type DatasetSpec } from './dataset.js';
import { u8Image, type U8Image } from './image.js';

export { FASHION_MNIST_CLASSES, MAX_IDX_BYTES, parseIdx, type IdxArray } from './idx_format.js';

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
