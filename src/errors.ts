// The error contract. Every error a user can cause is one of these: the CLI prints its message
// as one line on stderr and exits 2 (UsageError: bad arguments or options) or 1 (DataError: a
// file, key, shape or value at fault). Anything else that reaches the CLI is a bug: it prints
// the stack and exits 70 (EX_SOFTWARE).

/** Bad command-line arguments, options or API arguments (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file, key, shape or value at fault (exit 1). */
export class DataError extends Error {
  override name = 'DataError';
}

/** Tensors whose shapes, dtypes or sizes do not fit an operation (exit 1). */
export class ShapeError extends DataError {
  override name = 'ShapeError';
}
