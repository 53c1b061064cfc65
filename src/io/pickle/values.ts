// Python values that the safe pickle machine (./machine.ts) builds. Only plain data exists
// here: no Python object can be constructed except tuples, lists, dicts, bytes and the objects
// that allow-listed globals return (subclasses of PyObject defined by the caller, e.g. the
// tensor and storage references in ../pth/torch_globals.ts).

/** Base of every non-primitive value. */
export abstract class PyObject {
  abstract readonly typeName: string;
}

export type PyValue = null | boolean | number | bigint | string | PyObject;

/** A key a dict may hold (hashable primitives only). */
export type PyKey = null | boolean | number | bigint | string;

export class PyTuple extends PyObject {
  readonly typeName = 'tuple';
  constructor(readonly items: readonly PyValue[]) {
    super();
  }
}

export class PyList extends PyObject {
  readonly typeName = 'list';
  constructor(readonly items: PyValue[] = []) {
    super();
  }
}

export class PyBytes extends PyObject {
  readonly typeName = 'bytes';
  constructor(readonly bytes: Uint8Array) {
    super();
  }
}

/** dict or collections.OrderedDict (both keep insertion order, like Python 3.7+). */
export class PyDict extends PyObject {
  readonly typeName: 'dict' | 'OrderedDict';
  readonly map = new Map<PyKey, PyValue>();
  /** Instance attributes set by BUILD (e.g. a state dict's `_metadata`); never interpreted. */
  attributes: PyValue = null;
  constructor(ordered = false) {
    super();
    this.typeName = ordered ? 'OrderedDict' : 'dict';
  }
}

/** A set or frozenset of hashable primitives (protocol 4 EMPTY_SET/ADDITEMS/FROZENSET). */
export class PySet extends PyObject {
  readonly typeName = 'set';
  readonly items = new Set<PyKey>();
}

/**
 * A global that the allow-list admitted: a named constant or a function that REDUCE may call.
 * `call` receives the argument tuple's items and must itself validate them.
 */
export class PyGlobal extends PyObject {
  readonly typeName = 'global';
  constructor(
    readonly module: string,
    readonly name: string,
    readonly call: ((args: readonly PyValue[]) => PyValue) | null,
  ) {
    super();
  }
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

export function isKey(v: PyValue): v is PyKey {
  return v === null || typeof v !== 'object';
}

/** Short description of a value for error messages. */
export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return `str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return v instanceof PyGlobal ? `global ${v.qualifiedName}` : v.typeName;
  return `${typeof v} ${String(v)}`;
}
