// Training checkpoints: one self-describing binary file, written atomically and verified on load.
//
// Layout (integers little-endian):
//   [0, 8)        magic "ALXCKPT1"
//   [8, 12)       uint32 byte length H of the JSON header
//   [12, 12 + H)  JSON header: { version: 1, tensors: [{ name, shape, offset }], meta }
//   [D, …)        float32 tensor data, D = 12 + H rounded up to 64; offsets are relative to D
//   last 40 bytes SHA-256 of every byte before them, then the end magic "ALXCKEND"
// A file cut short or changed anywhere fails the checksum and is reported as torn; the store
// then falls back to the previous good checkpoint. A checksummed file is still checked field by
// field (a buggy writer can checksum nonsense). Writing goes to a temporary file in the same
// folder, which is fsynced, renamed over the target, and the folder fsynced.
import { createHash } from 'node:crypto';
import { existsSync, linkSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { fsyncDir, writeFileAtomic } from '../io/write_atomic.js';
import { numel, shapeText } from '../shape.js';

export { fsyncDir, writeFileAtomic };

const MAGIC = 'ALXCKPT1';
const END_MAGIC = 'ALXCKEND';
const TRAILER = 40;

export interface CheckpointTensor {
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint<M> {
  meta: M;
  tensors: Map<string, CheckpointTensor>;
}

interface Header<M> {
  version: 1;
  tensors: { name: string; shape: number[]; offset: number }[];
  meta: M;
}

// JSON has no Infinity/NaN (ReduceLROnPlateau starts from ±Infinity): encode them as tagged objects.
function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v;
}

function reviver(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.$number === 'string') return Number(o.$number);
  }
  return v;
}

/** The bytes of a checkpoint, as chunks (tensor data is not copied). */
export function encodeCheckpoint<M>(meta: M, tensors: Map<string, CheckpointTensor>): Uint8Array[] {
  const entries: Header<M>['tensors'] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (numel !== t.data.length)
      throw new Error(`checkpoint: tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    entries.push({ name, shape: t.shape, offset });
    offset += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify({ version: 1, tensors: entries, meta } satisfies Header<M>, replacer), 'utf8');
  const dataStart = Math.ceil((12 + json.length) / 64) * 64;
  const head = Buffer.alloc(dataStart);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  const chunks: Uint8Array[] = [head];
  for (const t of tensors.values()) chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  const trailer = Buffer.alloc(TRAILER);
  hash.digest().copy(trailer, 0);
  trailer.write(END_MAGIC, 32, 'latin1');
  chunks.push(trailer);
  return chunks;
}

/** Parses and verifies checkpoint bytes; a DataError names the file and what is wrong with it. */
export function decodeCheckpoint<M>(buf: Uint8Array, where: string): Checkpoint<M> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 + TRAILER || b.toString('latin1', 0, 8) !== MAGIC)
    throw new DataError(`${where}: not an alexnet checkpoint (bad magic or too short)`);
  if (b.toString('latin1', b.length - 8) !== END_MAGIC)
    throw new DataError(`${where}: torn checkpoint (no end marker; the write was interrupted)`);
  const digest = createHash('sha256')
    .update(b.subarray(0, b.length - TRAILER))
    .digest();
  if (!digest.equals(b.subarray(b.length - TRAILER, b.length - 8))) throw new DataError(`${where}: corrupt checkpoint (SHA-256 mismatch)`);
  const dataEnd = b.length - TRAILER;
  const jsonLength = b.readUInt32LE(8);
  if (12 + jsonLength > dataEnd) throw new DataError(`${where}: corrupt checkpoint (header length ${jsonLength} runs past the data)`);
  let header: unknown;
  try {
    header = JSON.parse(b.toString('utf8', 12, 12 + jsonLength), reviver);
  } catch (err) {
    throw new DataError(`${where}: corrupt checkpoint header (${(err as Error).message})`);
  }
  const dataStart = Math.min(dataEnd, Math.ceil((12 + jsonLength) / 64) * 64);
  const { entries, meta } = checkHeader<M>(header, where, dataEnd - dataStart);
  const tensors = new Map<string, CheckpointTensor>();
  for (const e of entries) {
    const data = new Float32Array(numel(e.shape));
    const start = dataStart + e.offset;
    new Uint8Array(data.buffer).set(b.subarray(start, start + data.byteLength));
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { meta, tensors };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The header's structure, checked: version 1, `meta` an object, and tensor entries with a name,
 * a shape of non-negative integers and an offset, laid out one after the other (as the writer
 * does) so that together they cover the data section exactly.
 */
function checkHeader<M>(header: unknown, where: string, dataBytes: number): { entries: Header<M>['tensors']; meta: M } {
  if (!isObject(header)) throw new DataError(`${where}: corrupt checkpoint (the header is not an object)`);
  if (header.version !== 1) throw new DataError(`${where}: unsupported checkpoint version ${JSON.stringify(header.version)}`);
  if (!Array.isArray(header.tensors)) throw new DataError(`${where}: checkpoint field 'tensors' is not a list`);
  if (!isObject(header.meta)) throw new DataError(`${where}: checkpoint field 'meta' is not an object`);
  const entries: Header<M>['tensors'] = [];
  const seen = new Set<string>();
  let expected = 0;
  header.tensors.forEach((e: unknown, i: number) => {
    if (!isObject(e)) throw new DataError(`${where}: tensor entry ${i} is not an object`);
    const { name, shape, offset } = e;
    if (typeof name !== 'string' || name === '') throw new DataError(`${where}: tensor entry ${i}: name is not a non-empty string`);
    if (seen.has(name)) throw new DataError(`${where}: tensor '${name}' appears twice`);
    seen.add(name);
    if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new DataError(`${where}: tensor '${name}': shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    const dims = shape as number[];
    const bytes = 4 * numel(dims);
    if (offset !== expected || !Number.isSafeInteger(bytes) || expected + bytes > dataBytes)
      throw new DataError(
        `${where}: tensor '${name}': offset ${JSON.stringify(offset)} and shape ${shapeText(dims)} do not fit the data section (expected offset ${expected}, ${dataBytes} bytes in all)`,
      );
    expected += bytes;
    entries.push({ name, shape: dims, offset });
  });
  if (expected !== dataBytes)
    throw new DataError(`${where}: corrupt checkpoint (${dataBytes} bytes of tensor data, the tensors use ${expected})`);
  return { entries, meta: header.meta as M };
}

export function readCheckpoint<M>(path: string): Checkpoint<M> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new DataError(`${path}: cannot read checkpoint (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return decodeCheckpoint<M>(buf, path);
}

/** Replaces `to` with a hard link to `from` (a copy where links are not supported), atomically. */
function linkAtomic(from: string, to: string): void {
  const tmp = `${to}.tmp-${process.pid}`;
  try {
    unlinkSync(tmp);
  } catch {
    // none left over
  }
  try {
    linkSync(from, tmp);
  } catch {
    writeFileAtomic(tmp, [readFileSync(from)]);
  }
  renameSync(tmp, to);
}

/**
 * The checkpoints of one run, in RUN_DIR/checkpoints: `last.ckpt` (every epoch and on
 * interruption), `prev.ckpt` (the one before, kept as a fallback) and `best.ckpt`.
 */
export class CheckpointStore {
  constructor(readonly dir: string) {}

  get lastPath(): string {
    return join(this.dir, 'last.ckpt');
  }

  get prevPath(): string {
    return join(this.dir, 'prev.ckpt');
  }

  get bestPath(): string {
    return join(this.dir, 'best.ckpt');
  }

  /** Removes temporary files left by a writer that was killed. */
  cleanStale(): void {
    if (!existsSync(this.dir)) return;
    for (const f of readdirSync(this.dir)) if (/\.tmp-\d+$/.test(f)) unlinkSync(join(this.dir, f));
  }

  /**
   * Writes `last.ckpt`, keeping the previous one as `prev.ckpt` (a hard link to the old file, which
   * the rename of the new `last.ckpt` then leaves to `prev.ckpt` alone).
   */
  saveLast<M>(meta: M, tensors: Map<string, CheckpointTensor>): void {
    if (existsSync(this.lastPath)) linkAtomic(this.lastPath, this.prevPath);
    writeFileAtomic(this.lastPath, encodeCheckpoint(meta, tensors));
  }

  /**
   * Makes the current `last.ckpt` the best one too: a copy of its own (not a second link to the
   * same inode), so that one damaged file cannot take both.
   */
  markLastAsBest(): void {
    writeFileAtomic(this.bestPath, [readFileSync(this.lastPath)]);
  }

  /**
   * The newest readable checkpoint: last, else prev, else best (each is at least as new as the
   * next), with the messages of those that failed verification; null when the run has none.
   */
  loadNewest<M>(): { path: string; checkpoint: Checkpoint<M>; rejected: string[] } | null {
    const rejected: string[] = [];
    for (const path of [this.lastPath, this.prevPath, this.bestPath]) {
      if (!existsSync(path)) continue;
      try {
        return { path, checkpoint: readCheckpoint<M>(path), rejected };
      } catch (err) {
        rejected.push((err as Error).message);
      }
    }
    if (rejected.length) throw new DataError(`no readable checkpoint in ${this.dir}: ${rejected.join('; ')}`);
    return null;
  }
}
