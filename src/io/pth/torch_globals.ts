// The allow-list of Python globals a PyTorch state dict may name, and the objects they build:
// storage types (torch.FloatStorage ...), dtypes (torch.float32 ...), collections.OrderedDict,
// torch._utils._rebuild_tensor(_v2) / _rebuild_parameter(_with_state), and _codecs.encode (how
// protocol 2 pickles bytes). This mirrors torch.load(weights_only=True). The rebuild functions
// only record and validate their arguments (TensorRef); values are read later by materialize().
import { DataError } from '../../errors.js';
import { elementReader, ELEMENT_SIZE, toFloat32, type ElementType } from '../dtype_convert.js';
import { AcceptsState } from '../pickle/machine.js';
import type { ZipEntry } from './zip.js';
import { PyBytes, PyDict, PyGlobal, PyList, PyObject, PyTuple, describe, type PyValue } from '../pickle/values.js';

const STORAGE_TYPES: Record<string, ElementType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const TORCH_DTYPES: Record<string, ElementType | null> = {
  float32: 'float32',
  float: 'float32',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
  complex64: null,
  complex128: null,
  qint8: null,
  quint8: null,
  qint32: null,
};

/** torch.FloatStorage and friends: names an element type. */
export class StorageType extends PyObject {
  readonly typeName = 'storage type';
  constructor(
    readonly pyName: string,
    readonly elementType: ElementType,
  ) {
    super();
  }
}

/** torch.float32 and friends (appear in checkpoints; never interpreted). */
export class TorchDType extends PyObject {
  readonly typeName = 'torch.dtype';
  constructor(readonly pyName: string) {
    super();
  }
}

/** One storage: its element type, element count and (once the container supplies it) bytes. */
export class StorageRef extends PyObject {
  readonly typeName = 'storage';
  /** Raw little-endian bytes, exactly numel × element size; null until the container fills it. */
  bytes: Uint8Array | null = null;
  /**
   * Reads the bytes from the file on demand (zip entries): into `into` when given (exactly
   * numel × element size bytes), else into a new buffer.
   */
  fetch: ((into?: Uint8Array) => Uint8Array) | null = null;
  /** The zip entry holding exactly these bytes (zip files read from a path), so they can be streamed later. */
  zipEntry: ZipEntry | null = null;

  /** The bytes, read from the file (once) when they are still there. */
  load(): Uint8Array | null {
    if (this.bytes === null && this.fetch) this.bytes = this.fetch();
    return this.bytes;
  }
  constructor(
    readonly key: string,
    readonly elementType: ElementType,
    readonly numel: number,
  ) {
    super();
  }
}

/** A tensor view into a storage, as _rebuild_tensor_v2 describes it. */
export class TensorRef extends PyObject implements AcceptsState {
  readonly typeName = 'tensor';
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly requiresGrad: boolean,
  ) {
    super();
  }
  get numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  /** A tensor subclass's __dict__ (BUILD); plain state dicts have none worth keeping. */
  setState(_state: PyValue): void {}
}

function int(v: PyValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new Error(`${what} must be a non-negative integer, got ${describe(v)}`);
  return v;
}

function intTuple(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) throw new Error(`${what} must be a tuple, got ${describe(v)}`);
  if (v.items.length > 16) throw new Error(`${what} has ${v.items.length} dimensions (16 at most)`);
  return v.items.map((x, i) => int(x, `${what}[${i}]`));
}

/** Validates a view (offset, shape, stride) against its storage: every element must lie inside. */
function checkView(storage: StorageRef, offset: number, shape: number[], stride: number[]): void {
  if (shape.length !== stride.length) throw new Error(`size has ${shape.length} dimensions but stride has ${stride.length}`);
  let numel = 1;
  for (const d of shape) numel *= d;
  if (numel === 0) return;
  let last = offset;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i]! > 1) {
      last += (shape[i]! - 1) * stride[i]!;
      if (last >= storage.numel) break;
    }
  }
  if (last >= storage.numel) {
    throw new Error(
      `tensor view (offset ${offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches past its storage '${storage.key}' of ${storage.numel} elements`,
    );
  }
}

function rebuildTensor(args: readonly PyValue[]): TensorRef {
  if (args.length < 6 || args.length > 7) throw new Error(`expected 6 or 7 arguments, got ${args.length}`);
  const [storage, offsetV, sizeV, strideV, requiresGrad] = args as [PyValue, PyValue, PyValue, PyValue, PyValue];
  if (!(storage instanceof StorageRef)) throw new Error(`storage argument is ${describe(storage)}`);
  const offset = int(offsetV, 'storage_offset');
  const shape = intTuple(sizeV, 'size');
  const stride = intTuple(strideV, 'stride');
  checkView(storage, offset, shape, stride);
  return new TensorRef(storage, offset, shape, stride, requiresGrad === true);
}

/** torch._utils._rebuild_tensor(storage, storage_offset, size, stride): files from PyTorch 0.4-era code paths. */
function rebuildTensorV1(args: readonly PyValue[]): TensorRef {
  if (args.length !== 4) throw new Error(`expected 4 arguments, got ${args.length}`);
  return rebuildTensor([...args, false, null]);
}

function rebuildParameter(args: readonly PyValue[]): TensorRef {
  if (args.length < 3 || args.length > 4) throw new Error(`expected 3 or 4 arguments, got ${args.length}`);
  const data = args[0];
  if (!(data instanceof TensorRef)) throw new Error(`data argument is ${describe(data ?? null)}`);
  return new TensorRef(data.storage, data.offset, data.shape, data.stride, args[1] === true);
}

function orderedDict(args: readonly PyValue[]): PyDict {
  const d = new PyDict(true);
  if (args.length === 0) return d;
  const items = args[0];
  if (args.length !== 1 || !(items instanceof PyList || items instanceof PyTuple))
    throw new Error('expects no arguments or one list of pairs');
  for (const pair of items.items) {
    if (!(pair instanceof PyTuple) || pair.items.length !== 2) throw new Error(`item ${describe(pair)} is not a (key, value) pair`);
    const [k, v] = pair.items as [PyValue, PyValue];
    if (k !== null && typeof k === 'object') throw new Error(`unsupported key ${describe(k)}`);
    d.map.set(k, v);
  }
  return d;
}

function codecsEncode(args: readonly PyValue[]): PyBytes {
  const [text, encoding] = args;
  if (typeof text !== 'string' || args.length > 2) throw new Error('expects (str, encoding)');
  if (encoding === 'latin1' || encoding === 'latin-1') {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 255) throw new Error('character outside latin-1');
      out[i] = c;
    }
    return new PyBytes(out);
  }
  if (encoding === undefined || encoding === 'utf-8' || encoding === 'utf8') return new PyBytes(new TextEncoder().encode(text));
  throw new Error(`unsupported encoding ${describe(encoding ?? null)}`);
}

/** The allow-list: returns the global for an admitted name, null for everything else. */
export function resolveTorchGlobal(module: string, name: string): PyGlobal | null {
  if (module === 'collections' && name === 'OrderedDict') return new PyGlobal(module, name, orderedDict);
  if (module === 'torch._utils' && name === '_rebuild_tensor_v2') return new PyGlobal(module, name, rebuildTensor);
  if (module === 'torch._utils' && name === '_rebuild_tensor') return new PyGlobal(module, name, rebuildTensorV1);
  if (module === 'torch._utils' && (name === '_rebuild_parameter' || name === '_rebuild_parameter_with_state')) {
    return new PyGlobal(module, name, rebuildParameter);
  }
  if (module === '_codecs' && name === 'encode') return new PyGlobal(module, name, codecsEncode);
  if (module === 'torch' && Object.hasOwn(STORAGE_TYPES, name)) return new StorageTypeGlobal(name, STORAGE_TYPES[name]!);
  if (module === 'torch' && Object.hasOwn(TORCH_DTYPES, name)) return new DTypeGlobal(name);
  return null;
}

/** torch.XStorage as a global: no call; its identity carries the element type. */
export class StorageTypeGlobal extends PyGlobal {
  readonly storageType: StorageType;
  constructor(name: string, type: ElementType) {
    super('torch', name, null);
    this.storageType = new StorageType(name, type);
  }
}

export class DTypeGlobal extends PyGlobal {
  readonly dtype: TorchDType;
  constructor(name: string) {
    super('torch', name, null);
    this.dtype = new TorchDType(name);
  }
}

/**
 * Copies a tensor view out of its storage into a contiguous float32 array (C order), converting
 * the element type. `budget.bytes` caps the total float32 bytes produced (expanded views with
 * zero strides could otherwise ask for far more memory than the file holds).
 */
export function materialize(t: TensorRef, where: string, budget: { bytes: number }): Float32Array {
  const storage = t.storage;
  const numel = t.numel;
  budget.bytes -= numel * 4;
  if (budget.bytes < 0) throw new DataError(`${where}: tensor of ${numel} elements exceeds what the file can hold`);
  const type = storage.elementType;
  // Contiguous row-major views are one copy.
  let contiguous = true;
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expect) contiguous = false;
    expect *= t.shape[i]!;
  }
  // A whole float32 storage still in the file (the usual state-dict tensor) is read straight
  // into its Float32Array: no copy of the file's bytes at all.
  if (contiguous && type === 'float32' && storage.bytes === null && storage.fetch && t.offset === 0 && numel === storage.numel) {
    const out = new Float32Array(numel);
    storage.fetch(new Uint8Array(out.buffer));
    return out;
  }
  const bytes = storage.load();
  if (bytes === null) throw new DataError(`${where}: storage '${storage.key}' has no data in the file`);
  if (bytes.length < storage.numel * ELEMENT_SIZE[type]) throw new DataError(`${where}: storage '${storage.key}' is truncated`);
  if (contiguous) return toFloat32(type, bytes, t.offset, numel);
  const out = new Float32Array(numel);
  const read = elementReader(type, bytes);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let src = t.offset;
  for (let o = 0; o < numel; o++) {
    out[o] = read(src);
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      src += t.stride[k]!;
      if (idx[k]! < t.shape[k]!) break;
      src -= t.stride[k]! * t.shape[k]!;
      idx[k] = 0;
    }
  }
  return out;
}
