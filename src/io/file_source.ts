// The Node side of reading: a file as a ByteSource (see pth/zip.ts), read at offsets with
// fs.readSync and never whole, so that the neutral readers (pth/reader.ts, safetensors_format.ts)
// work on files as they do on bytes. Errors are DataErrors naming the file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { DataError } from '../errors.js';
import type { ByteSource } from './pth/zip.js';

/**
 * Runs `read` on the file at `path` as a ByteSource and closes it after. A file that cannot be opened
 * or read is a DataError naming it; the reader's own DataErrors pass through.
 */
export function readFileAt<T>(path: string, read: (file: ByteSource) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new DataError(`${path}: cannot read (${(err as Error).message})`);
  }
  try {
    return read(fileSource(fd, path));
  } catch (err) {
    if (err instanceof DataError || !(err as NodeJS.ErrnoException).code) throw err;
    throw new DataError(`${path}: cannot read (${(err as Error).message})`);
  } finally {
    closeSync(fd);
  }
}

/** An open file read at offsets (fs.readSync), never whole: the caller closes `fd`. */
export function fileSource(fd: number, where: string): ByteSource {
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length, into) {
      const out = into ?? new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0)
          throw new DataError(
            `${where}: file ended at ${offset + done} bytes while reading ${length} bytes at ${offset} (changed while being read?)`,
          );
        done += n;
      }
      return out;
    },
  };
}
