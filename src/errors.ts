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

/**
 * The GPU could not go on: its device was lost, it ran out of memory, or its worker stopped
 * (exit 1). The webgpu backend throws it on the next call that waits for the GPU, and on every
 * later one: its tensors are gone.
 */
export class DeviceError extends DataError {
  override name = 'DeviceError';
}
