// Prepared datasets: a folder decoded and resized once into one file, read back at memory speed
// (the spirit of FFCV and of the paper's pre-resized 256×256 images).
//
// File layout (all integers little-endian):
//   [0, 8)     magic "ALXPREP1"
//   [8, 16)    uint64 offset of the JSON trailer
//   [16, 20)   uint32 byte length of the JSON trailer
//   [4096, …)  images, uint8 [count, height, width, channels] (HWC each, like a decoded file)
//   then       labels, int32 [count]
//   then       the JSON trailer: { version, count, height, width, channels, classes, labelsOffset,
//              imagesOffset, source, skipped }
// The writer streams images as they come (the count is known only at the end), writes a
// temporary file, fsyncs it and renames it into place, so a reader never sees half a file.
import { closeSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { DataError } from '../errors.js';
import { sampleEntry, type Dataset, type DatasetSpec } from './dataset.js';
import { u8Image, type U8Image } from './image.js';

const MAGIC = 'ALXPREP1';
const IMAGES_OFFSET = 4096;

export interface PreparedHeader {
  version: 1;
  count: number;
  height: number;
  width: number;
  channels: number;
  classes: string[];
  imagesOffset: number;
  labelsOffset: number;
  /** The folder it was made from. */
  source: string;
  /** Files left out as broken when it was made. */
  skipped: string[];
}

export class PreparedWriter {
  private readonly tmp: string;
  private fd: number;
  private count = 0;
  private readonly labels: number[] = [];
  private readonly imageBytes: number;

  constructor(
    readonly path: string,
    readonly shape: { height: number; width: number; channels: number },
  ) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
    this.imageBytes = shape.height * shape.width * shape.channels;
  }

  /** Appends images, uint8 [n, H, W, C] in one array, with their labels. */
  append(images: Uint8Array, labels: ArrayLike<number>): void {
    if (images.length !== labels.length * this.imageBytes) {
      throw new Error(`PreparedWriter: ${images.length} bytes for ${labels.length} images of ${this.imageBytes} bytes`);
    }
    writeAll(this.fd, images, IMAGES_OFFSET + this.count * this.imageBytes);
    for (let i = 0; i < labels.length; i++) this.labels.push(labels[i]!);
    this.count += labels.length;
  }

  /** Writes labels and trailer, then moves the file into place. */
  finish(meta: { classes: string[]; source: string; skipped: string[] }): PreparedHeader {
    const labelsOffset = IMAGES_OFFSET + this.count * this.imageBytes;
    const labels = Int32Array.from(this.labels);
    writeAll(this.fd, new Uint8Array(labels.buffer), labelsOffset);
    const header: PreparedHeader = {
      version: 1,
      count: this.count,
      ...this.shape,
      classes: meta.classes,
      imagesOffset: IMAGES_OFFSET,
      labelsOffset,
      source: meta.source,
      skipped: meta.skipped,
    };
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const trailerOffset = labelsOffset + labels.byteLength;
    writeAll(this.fd, json, trailerOffset);
    const head = Buffer.alloc(20);
    head.write(MAGIC, 0, 'latin1');
    head.writeBigUInt64LE(BigInt(trailerOffset), 8);
    head.writeUInt32LE(json.length, 16);
    writeAll(this.fd, head, 0);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    renameSync(this.tmp, this.path);
    return header;
  }

  /** Drops the temporary file (after an error). */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.tmp);
    } catch {
      // already gone
    }
  }
}

function writeAll(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

function readExactly(fd: number, length: number, position: number, path: string): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new DataError(`${path}: truncated prepared file (wanted ${length} bytes at ${position})`);
    done += n;
  }
  return buf;
}

/** Reads the header of a prepared file and checks it against the file's size. */
export function readPreparedHeader(path: string, fd: number): PreparedHeader {
  const size = statSync(path).size;
  if (size < 20) throw new DataError(`${path}: not a prepared dataset (too short)`);
  const head = readExactly(fd, 20, 0, path);
  if (head.toString('latin1', 0, 8) !== MAGIC)
    throw new DataError(`${path}: not a prepared dataset (bad magic; make one with 'alexnet prepare')`);
  const trailerOffset = Number(head.readBigUInt64LE(8));
  const trailerLength = head.readUInt32LE(16);
  if (trailerOffset + trailerLength !== size)
    throw new DataError(`${path}: corrupt prepared dataset (trailer at ${trailerOffset}+${trailerLength}, file is ${size} bytes)`);
  let header: PreparedHeader;
  try {
    header = JSON.parse(readExactly(fd, trailerLength, trailerOffset, path).toString('utf8')) as PreparedHeader;
  } catch (err) {
    throw new DataError(`${path}: corrupt prepared dataset header (${(err as Error).message})`);
  }
  const { count, height, width, channels } = header;
  const ok = [count, height, width, channels].every((v) => Number.isSafeInteger(v) && v >= 0);
  if (header.version !== 1 || !ok || !Array.isArray(header.classes)) throw new DataError(`${path}: unsupported or corrupt prepared header`);
  if (
    header.labelsOffset !== header.imagesOffset + count * height * width * channels ||
    header.labelsOffset + 4 * count !== trailerOffset
  ) {
    throw new DataError(`${path}: corrupt prepared dataset (sections do not add up)`);
  }
  return header;
}

/** A prepared file as a Dataset: load() reads one image (pread, from the page cache once warm). */
export class PreparedDataset implements Dataset {
  readonly header: PreparedHeader;
  readonly classes: string[];
  readonly length: number;
  private fd: number;
  private readonly labels: Int32Array;
  private readonly imageBytes: number;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (err) {
      throw new DataError(`${path}: cannot open (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    try {
      this.header = readPreparedHeader(path, this.fd);
      const lb = readExactly(this.fd, 4 * this.header.count, this.header.labelsOffset, path);
      this.labels = new Int32Array(lb.buffer.slice(lb.byteOffset, lb.byteOffset + lb.length));
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
    this.classes = this.header.classes;
    this.length = this.header.count;
    this.imageBytes = this.header.height * this.header.width * this.header.channels;
  }

  label(index: number): number {
    return sampleEntry(this.labels, index, this.path);
  }

  sourceOf(index: number): string {
    return `${this.path}#${index}`;
  }

  load(index: number): U8Image {
    if (this.fd < 0) throw new Error(`${this.path}: dataset closed`);
    const { height, width, channels, imagesOffset } = this.header;
    const buf = readExactly(this.fd, this.imageBytes, imagesOffset + index * this.imageBytes, this.path);
    return u8Image(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), width, height, channels);
  }

  spec(): DatasetSpec {
    return { kind: 'prepared', path: this.path };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
