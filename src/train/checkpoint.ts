// Training checkpoints: one self-describing binary file, written atomically and verified on load.
//
// Layout (integers little-endian):
//   [0, 8)        magic "ALXCKPT1"
//   [8, 12)       uint32 byte length H of the JSON header
//   [12, 12 + H)  JSON header: { version: 1, tensors: [{ name, shape, offset }], meta }
//   [D, …)        float32 tensor data, D = 12 + H rounded up to 64; offsets are relative to D
//   last 40 bytes SHA-256 of every byte before them, then the end magic "ALXCKEND"
// A file cut short or changed anywhere fails the checksum and is reported as torn; the store
// then falls back to the previous good checkpoint. Writing goes to a temporary file in the same
// folder, which is fsynced, renamed over the target, and the folder fsynced.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from '../errors.js';

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
  const jsonLength = b.readUInt32LE(8);
  let header: Header<M>;
  try {
    header = JSON.parse(b.toString('utf8', 12, 12 + jsonLength), reviver) as Header<M>;
  } catch (err) {
    throw new DataError(`${where}: corrupt checkpoint header (${(err as Error).message})`);
  }
  if (header.version !== 1 || !Array.isArray(header.tensors))
    throw new DataError(`${where}: unsupported checkpoint version ${String(header.version)}`);
  const dataStart = Math.ceil((12 + jsonLength) / 64) * 64;
  const dataEnd = b.length - TRAILER;
  const tensors = new Map<string, CheckpointTensor>();
  for (const e of header.tensors) {
    const numel = e.shape.reduce((a, x) => a * x, 1);
    const start = dataStart + e.offset;
    if (!Number.isSafeInteger(start) || start + 4 * numel > dataEnd)
      throw new DataError(`${where}: tensor '${e.name}' lies outside the file`);
    const data = new Float32Array(numel);
    new Uint8Array(data.buffer).set(b.subarray(start, start + 4 * numel));
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { meta: header.meta, tensors };
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

/** Tests slow the writer down (ALEXNET_CHECKPOINT_SLOW_MS per chunk) to kill it mid-write. */
function testDelay(): number {
  const ms = Number(process.env.ALEXNET_CHECKPOINT_SLOW_MS ?? 0);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic there.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Writes `chunks` to `path` atomically: temporary file in the same folder, fsync, rename, fsync folder. */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const delay = testDelay();
  const fd = openSync(tmp, 'w');
  try {
    const piece = 8 << 20;
    for (const c of chunks) {
      for (let off = 0; off < c.length; off += piece) {
        const part = c.subarray(off, Math.min(c.length, off + piece));
        let done = 0;
        while (done < part.length) done += writeSync(fd, part, done, part.length - done);
        if (delay) sleepSync(delay);
      }
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
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

  /** Writes `last.ckpt`, keeping the previous one as `prev.ckpt`. */
  saveLast<M>(meta: M, tensors: Map<string, CheckpointTensor>): void {
    if (existsSync(this.lastPath)) linkAtomic(this.lastPath, this.prevPath);
    writeFileAtomic(this.lastPath, encodeCheckpoint(meta, tensors));
  }

  /** Makes the current `last.ckpt` the best one too. */
  markLastAsBest(): void {
    linkAtomic(this.lastPath, this.bestPath);
    fsyncDir(this.dir);
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
