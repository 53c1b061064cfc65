// Float64 work in a backend that computes only in float32 (native, wasm): such a backend keeps a
// float64 tensor as a reference-backend storage inside its own, and runs every op on float64
// operands with the reference backend's kernel. What is shared: telling float64 operands apart,
// and calling the kernel with the backend's operands unwrapped and its results (storages and
// workspaces, also inside { y, workspace }-like objects) wrapped back.
import type { Backend, Storage } from './backend.js';
import { RefStorage, RefWorkspace, type ReferenceBackend } from './reference/index.js';

/** The Backend members that are kernels (everything a detour may be asked to run; not the optional toArrayAsync). */
export type Kernel = Exclude<keyof Backend, 'name' | 'precision' | 'runAsync' | 'toArrayAsync'>;

/** How a backend's own operands map to the reference backend's, and back. */
export interface ReferenceCodec {
  /** The reference twin of one of the backend's storages or workspaces; anything else as it is. */
  toReference(a: unknown): unknown;
  /** The backend's wrapper around a reference storage or workspace. */
  wrap(r: RefStorage | RefWorkspace): unknown;
}

/** True when the operands are float64 (then the op runs on the reference kernels); mixed dtypes are a bug. */
export function isFloat64(backend: string, xs: readonly (Storage | null)[]): boolean {
  const first = xs.find((x): x is Storage => x !== null);
  if (!first) return false;
  for (const x of xs) if (x && x.dtype !== first.dtype) throw new Error(`${backend} backend: operands mix ${first.dtype} and ${x.dtype}`);
  return first.dtype === 'float64';
}

/** The reference backend's kernel `name` on `args` unwrapped by `codec`, its result wrapped back. */
export function onReference<K extends Kernel>(
  reference: ReferenceBackend,
  codec: ReferenceCodec,
  name: K,
  args: Parameters<Backend[K]>,
): ReturnType<Backend[K]> {
  const kernel = reference[name] as (...a: unknown[]) => unknown;
  const wrapAll = (r: unknown): unknown => {
    if (r instanceof RefStorage || r instanceof RefWorkspace) return codec.wrap(r);
    if (r !== null && typeof r === 'object' && !ArrayBuffer.isView(r)) {
      return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, wrapAll(v)]));
    }
    return r;
  };
  return wrapAll(
    kernel.apply(
      reference,
      args.map((a) => codec.toReference(a)),
    ),
  ) as ReturnType<Backend[K]>;
}

/** The error for an operand of another backend reaching this one. */
export function foreignOperand(backend: string, a: RefStorage | RefWorkspace): Error {
  return new Error(`${backend} backend: an operand belongs to the '${a.backend}' backend; move it to the ${backend} backend first`);
}
