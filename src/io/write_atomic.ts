// Writing output files safely: the target is checked before any work (a directory or a missing
// folder is a DataError at once, not after a long computation), then written to a temporary file
// in the same folder, fsynced and renamed over the target, so that a reader never sees half a
// file. Devices and pipes (/dev/stdout, /dev/null) cannot be renamed over: they are written
// directly. Every failure is one DataError naming the path and the system's reason.
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DataError } from '../errors.js';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '').replace(/, \w+( '.*')?$/, '')}` : String(err);
}

/** Throws a DataError unless `path` can be written as a file: its folder exists and it is not a directory. */
export function checkOutputFile(path: string): void {
  const st = statOrNull(path);
  if (st?.isDirectory()) throw new DataError(`${path}: is a directory, not a file`);
  if (st && !st.isFile()) return; // a device or pipe: written in place
  const dir = dirname(resolve(path));
  const d = statOrNull(dir);
  if (!d) throw new DataError(`${path}: the folder ${dir} does not exist`);
  if (!d.isDirectory()) throw new DataError(`${path}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new DataError(`${path}: cannot write in ${dir} (${reason(err)})`);
  }
}

/** Creates the folder `dir` (and its parents) or throws a DataError saying why it cannot be one. */
export function ensureOutputDir(dir: string): void {
  const st = statOrNull(dir);
  if (st && !st.isDirectory()) throw new DataError(`${dir}: exists and is not a folder`);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new DataError(`${dir}: cannot create or write the output folder (${reason(err)})`);
  }
}

/** fsyncs a folder so that a rename in it is durable (quietly skipped where the filesystem refuses). */
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

/** Tests slow the writer down (ALEXNET_CHECKPOINT_SLOW_MS per 8 MiB) to kill it mid-write. */
function testDelay(): number {
  const ms = Number(process.env.ALEXNET_CHECKPOINT_SLOW_MS ?? 0);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function writeAll(fd: number, chunks: readonly Uint8Array[]): void {
  const delay = testDelay();
  const piece = 8 << 20;
  for (const c of chunks) {
    for (let off = 0; off < c.length; off += piece) {
      const part = c.subarray(off, Math.min(c.length, off + piece));
      let done = 0;
      while (done < part.length) done += writeSync(fd, part, done, part.length - done);
      if (delay) sleepSync(delay);
    }
  }
}

/** Writes `chunks` to a device or pipe that already exists (no temporary file possible). */
function writeInPlace(path: string, chunks: readonly Uint8Array[]): void {
  let fd = -1;
  try {
    fd = openSync(path, 'w');
    writeAll(fd, chunks);
  } catch (err) {
    throw new DataError(`${path}: cannot write (${reason(err)})`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Writes `chunks` to `path` atomically: a temporary file in the same folder, fsync, rename, fsync
 * of the folder. On any failure the temporary file is removed and a DataError names the path.
 */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const st = statOrNull(path);
  if (st && !st.isFile() && !st.isDirectory()) return writeInPlace(path, chunks);
  const tmp = `${path}.tmp-${process.pid}`;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w');
    writeAll(fd, chunks);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw new DataError(`${path}: cannot write (${reason(err)})`);
  }
  fsyncDir(dirname(path));
}
