// Error kinds the CLI maps to exit codes: UsageError → 2 (bad arguments), DataError → 1 (a file,
// key or shape at fault). Both print one line on stderr, never a stack trace.

export class UsageError extends Error {
  override name = 'UsageError';
}

export class DataError extends Error {
  override name = 'DataError';
}
