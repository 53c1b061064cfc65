// How the CLI answers an error (the contract of src/errors.ts): a UsageError prints one line
// `alexnet: message` and exits 2, a DataError (or Node's fs error about a path the user named)
// one line and exits 1; anything else is a bug: its full stack, exit 70 (EX_SOFTWARE).
import { CommanderError } from 'commander';
import { inspect } from 'node:util';
import { DataError, UsageError } from '../errors.js';
import { userPathError } from './user_paths.js';

export const EXIT_DATA = 1;
export const EXIT_USAGE = 2;
export const EXIT_BUG = 70;

/** `alexnet: message` as one line (a message's own line breaks become spaces). */
export function oneLine(message: string): string {
  return `alexnet: ${message.trim().replace(/\s*\n\s*/g, ' ')}\n`;
}

/** Writes what the user needs to know about `err` to stderr and returns the exit code. */
export function reportError(err: unknown, argv: readonly string[]): number {
  // commander has already printed its message (or the help it was asked for).
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
  const error = userPathError(err, argv) ?? err;
  if (error instanceof UsageError || error instanceof DataError) {
    process.stderr.write(oneLine(error.message));
    return error instanceof UsageError ? EXIT_USAGE : EXIT_DATA;
  }
  process.stderr.write(`alexnet: internal error (a bug: please report it with what follows)\n${inspect(err)}\n`);
  return EXIT_BUG;
}
