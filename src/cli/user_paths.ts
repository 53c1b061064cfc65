// Node's own file-system errors about a path the user named on the command line (a missing input,
// a directory given for a file, an output folder that does not exist, a full disk) are the
// user's to fix, not bugs: they become a one-line DataError naming the path.
import { resolve, sep } from 'node:path';
import { DataError } from '../errors.js';

/** The error codes a user's path can cause, in words. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a part of the path is not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
};

/**
 * The user's path that `path` belongs to: the path itself, a file inside a folder the user
 * named, or the temporary sibling (`PATH.tmp-PID`) that atomic writes rename into place.
 */
function namedBy(path: string, argv: readonly string[]): string | undefined {
  const target = resolve(path);
  for (const arg of argv) {
    for (const candidate of pathsIn(arg)) {
      const user = resolve(candidate);
      if (target === user || target.startsWith(`${user}.tmp-`)) return candidate;
      if (target.startsWith(user + sep)) return path;
    }
  }
  return undefined;
}

/** The paths an argument may name: itself, and what follows an '=' (`--out=FILE`, `fashion-mnist=DIR`). */
function pathsIn(arg: string): string[] {
  const paths = [arg];
  for (let i = arg.indexOf('='); i >= 0; i = arg.indexOf('=', i + 1)) paths.push(arg.slice(i + 1));
  return paths.filter((p) => p !== '');
}

/** A DataError for an fs error about a path in `argv`, or undefined when `err` is no such error. */
export function userPathError(err: unknown, argv: readonly string[]): DataError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, path, dest } = err as NodeJS.ErrnoException & { dest?: string };
  const reason = code === undefined ? undefined : REASONS[code];
  if (reason === undefined) return undefined;
  // A rename names both ends; either may be the user's.
  for (const p of [dest, path]) {
    const named = p === undefined ? undefined : namedBy(p, argv);
    if (named !== undefined) return new DataError(`${named}: ${reason}`);
  }
  return undefined;
}
