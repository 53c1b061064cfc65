// Reads what torch.save writes, without executing it: the zip container (PyTorch ≥ 1.6:
// <archive>/data.pkl + <archive>/data/<key> storages) and the legacy stream
// (_use_new_zipfile_serialization=False: magic, protocol and sys-info pickles, the object
// pickle, the list of storage keys, then each storage as an 8-byte element count + raw bytes).
// The pickle runs in the safe machine with the torch allow-list (../pickle, ./torch_globals.ts);
// storages are checked against the file before any tensor is materialised. The reader works on
// bytes or on a ByteSource (platform-neutral; index.ts opens files on Node): a zip file is read at
// offsets, never whole, each float32 storage going straight from the source into its tensor, or
// (lazy reading, given a `lazy` factory) staying in the file until it is streamed into a model.
import { DataError } from '../../errors.js';
import { ELEMENT_SIZE } from '../dtype_convert.js';
import { unpickle } from '../pickle/machine.js';
import { PyDict, PyList, PyTuple, describe, type PyValue } from '../pickle/values.js';
import type { NamedTensor, RangeCheck, TensorMap } from '../tensor_map.js';
import { StorageRef, StorageTypeGlobal, TensorRef, materialize, resolveTorchGlobal } from './torch_globals.js';
import { ZipReader, asByteSource, crc32Update, isZip, type ByteSource } from './zip.js';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

export type PthFormat = 'zip' | 'legacy';

export interface PthObject {
  /** The unpickled top-level object (tensors are TensorRef with filled storages). */
  root: PyValue;
  format: PthFormat;
}

/** A torch.save file: its bytes, or a ByteSource reading it at offsets (a file: ../file_source.ts). */
export type PthSource = Uint8Array | ByteSource;

/**
 * Runs `use` on the parsed file. A zip file is read at offsets through the source (storages are
 * read when `use` materialises them); a legacy stream is read whole. Buffers are used in place.
 */
function withPth<T>(input: PthSource, where: string, use: (obj: PthObject, size: number) => T): T {
  const source = asByteSource(input);
  const head = source.read(0, Math.min(4, source.size));
  if (isZip(head)) return use(parseZip(new ZipReader(source, where), where), source.size);
  if (source.size >= 2 && head[0] === 0x80) return use(parseLegacy(source.read(0, source.size), where), source.size);
  throw new DataError(`${where}: not a PyTorch file (expected a zip archive or a legacy pickle stream)`);
}

/** Decodes a persistent id tuple ('storage', storage type, key, location, numel[, view]). */
function storagePid(pid: PyValue, where: string, legacy: boolean): { key: string; type: StorageTypeGlobal; numel: number } {
  if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage')
    throw new DataError(`${where}: unsupported persistent id ${describe(pid)} (only storages are allowed)`);
  const [, type, key, location, numel, view] = pid.items;
  if (pid.items.length !== (legacy ? 6 : 5)) throw new DataError(`${where}: storage persistent id has ${pid.items.length} fields`);
  if (!(type instanceof StorageTypeGlobal)) throw new DataError(`${where}: storage type is ${describe(type ?? null)}`);
  if (typeof key !== 'string' || typeof location !== 'string') throw new DataError(`${where}: storage key/location must be strings`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
    throw new DataError(`${where}: storage '${key}' has bad size ${describe(numel ?? null)}`);
  if (legacy && view !== null) throw new DataError(`${where}: storage views (pre-1.0 files) are not supported`);
  return { key, type, numel };
}

function parseZip(zip: ZipReader, where: string): PthObject {
  const pklName = zip.names.find((n) => n.endsWith('data.pkl') && n.split('/').length === 2);
  if (!pklName) throw new DataError(`${where}: zip archive has no <archive>/data.pkl entry (not a torch.save file?)`);
  const prefix = pklName.slice(0, -'data.pkl'.length);
  const storages = new Map<string, StorageRef>();
  const root = unpickle(zip.read(pklName), 0, {
    where: `${where}:${pklName}`,
    resolveGlobal: resolveTorchGlobal,
    persistentLoad: (pid) => {
      const { key, type, numel } = storagePid(pid, where, false);
      const known = storages.get(key);
      if (known) {
        if (known.elementType !== type.storageType.elementType || known.numel !== numel)
          throw new DataError(`${where}: storage '${key}' is referenced with two different types or sizes`);
        return known;
      }
      const entry = `${prefix}data/${key}`;
      if (!zip.entries.has(entry)) throw new DataError(`${where}: storage '${key}' has no entry '${entry}'`);
      const size = zip.entries.get(entry)?.size ?? 0;
      const need = numel * ELEMENT_SIZE[type.storageType.elementType];
      if (size < need) throw new DataError(`${where}: storage '${key}' holds ${size} bytes, ${numel} ${type.name} elements need ${need}`);
      const ref = new StorageRef(key, type.storageType.elementType, numel);
      if (size === need) ref.zipEntry = zip.entries.get(entry) ?? null;
      // Read when a tensor needs it, straight into the caller's buffer when the entry is exact.
      ref.fetch = (into) => {
        if (into && size === need) return zip.read(entry, into);
        const bytes = zip.read(entry).subarray(0, need);
        if (!into) return bytes;
        into.set(bytes);
        return into;
      };
      storages.set(key, ref);
      return ref;
    },
  }).value;
  return { root, format: 'zip' };
}

function parseLegacy(buf: Uint8Array, where: string): PthObject {
  const plain = { where, resolveGlobal: () => null };
  const magic = unpickle(buf, 0, plain);
  if (magic.value !== LEGACY_MAGIC) throw new DataError(`${where}: not a PyTorch file (neither a zip archive nor the legacy magic number)`);
  const protocol = unpickle(buf, magic.end, plain);
  if (protocol.value !== LEGACY_PROTOCOL) throw new DataError(`${where}: unsupported legacy protocol version ${describe(protocol.value)}`);
  const sysInfo = unpickle(buf, protocol.end, plain);
  if (sysInfo.value instanceof PyDict && sysInfo.value.map.get('little_endian') === false) {
    throw new DataError(`${where}: big-endian legacy files are not supported`);
  }
  const storages = new Map<string, StorageRef>();
  const main = unpickle(buf, sysInfo.end, {
    where,
    resolveGlobal: resolveTorchGlobal,
    persistentLoad: (pid) => {
      const { key, type, numel } = storagePid(pid, where, true);
      const known = storages.get(key);
      if (known) {
        if (known.elementType !== type.storageType.elementType)
          throw new DataError(`${where}: storage '${key}' is referenced with two different types`);
        return known;
      }
      // The size in the id must fit in the file; the exact size is checked when the bytes come.
      if (numel * ELEMENT_SIZE[type.storageType.elementType] > buf.length)
        throw new DataError(`${where}: storage '${key}' claims ${numel} elements, more than the file holds`);
      const ref = new StorageRef(key, type.storageType.elementType, numel);
      storages.set(key, ref);
      return ref;
    },
  });
  const keys = unpickle(buf, main.end, plain);
  if (!(keys.value instanceof PyList)) throw new DataError(`${where}: storage key list missing after the object pickle`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = keys.end;
  for (const key of keys.value.items) {
    if (typeof key !== 'string') throw new DataError(`${where}: storage key ${describe(key)} is not a string`);
    const ref = storages.get(key);
    if (!ref) throw new DataError(`${where}: storage '${key}' is listed but never used`);
    if (ref.bytes !== null) throw new DataError(`${where}: storage '${key}' is listed twice`);
    if (pos + 8 > buf.length) throw new DataError(`${where}: truncated before storage '${key}'`);
    const count = view.getBigInt64(pos, true);
    pos += 8;
    const size = ELEMENT_SIZE[ref.elementType];
    if (count !== BigInt(ref.numel))
      throw new DataError(`${where}: storage '${key}' has ${count} elements in the file, ${ref.numel} in its id`);
    const nbytes = ref.numel * size;
    if (pos + nbytes > buf.length)
      throw new DataError(`${where}: storage '${key}' is truncated (${nbytes} bytes needed at offset ${pos}, file has ${buf.length})`);
    ref.bytes = buf.subarray(pos, pos + nbytes);
    pos += nbytes;
  }
  for (const [key, ref] of storages) {
    if (ref.bytes === null) throw new DataError(`${where}: storage '${key}' is used but missing from the file`);
  }
  return { root: main.value, format: 'legacy' };
}

/** Parses a torch.save file (either container) into its top-level object, every storage's bytes read. `name` labels errors. */
export function parsePth(source: PthSource, name = '<buffer>'): PthObject {
  return withPth(source, name, (obj) => {
    loadStorages(obj.root, new Set());
    return obj;
  });
}

function loadStorages(v: PyValue, seen: Set<PyValue>): void {
  if (seen.has(v)) return;
  if (v instanceof TensorRef) v.storage.load();
  else if (v instanceof PyDict) {
    seen.add(v);
    for (const x of v.map.values()) loadStorages(x, seen);
  } else if (v instanceof PyList || v instanceof PyTuple) {
    seen.add(v);
    for (const x of v.items) loadStorages(x, seen);
  }
}

// ---- state dict extraction ------------------------------------------------------------------

function isStateDict(v: PyValue): v is PyDict {
  if (!(v instanceof PyDict) || v.map.size === 0) return false;
  for (const [k, x] of v.map) if (typeof k !== 'string' || !(x instanceof TensorRef)) return false;
  return true;
}

/** Keys under which checkpoints commonly keep the model's state dict, in order of preference. */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'network', 'module', 'weights', 'params'];

/** Finds the state dict in a file's top-level object: itself, or nested in a checkpoint dict. */
export function findStateDict(root: PyValue, where: string): { dict: PyDict; path: string } {
  const search = (v: PyValue, path: string, depth: number): { dict: PyDict; path: string } | null => {
    if (isStateDict(v)) return { dict: v, path };
    if (!(v instanceof PyDict) || depth >= 4) return null;
    for (const k of STATE_DICT_KEYS) {
      if (!v.map.has(k)) continue;
      const found = search(v.map.get(k) as PyValue, path ? `${path}.${k}` : k, depth + 1);
      if (found) return found;
    }
    const direct = [...v.map].filter(([, x]) => isStateDict(x));
    if (direct.length === 1) return { dict: direct[0]![1] as PyDict, path: `${path ? path + '.' : ''}${String(direct[0]![0])}` };
    return null;
  };
  const found = search(root, '', 0);
  if (found) return found;
  const keys = root instanceof PyDict ? [...root.map.keys()].slice(0, 12).map(String).join(', ') : describe(root);
  throw new DataError(
    `${where}: no state dict found (top level: ${keys}); expected a dict of tensors or a checkpoint with 'state_dict' or 'model'`,
  );
}

/** Where a whole float32 storage lies in the source, and the CRC check to run over it as it streams. */
export interface LazySpan {
  offset: number;
  byteLength: number;
  check: () => RangeCheck;
}

/** How readPth reads: `lazy` makes the entry for a storage left in the file (see readPth). */
export interface ReadPthOptions {
  lazy?: (shape: number[], span: LazySpan) => NamedTensor;
}

/**
 * Reads a .pth/.pt file's state dict as float32 tensors (half/bfloat16/float64/int converted).
 * With `lazy`, a zip file's whole contiguous float32 tensors (all of a state dict, as torch.save
 * writes it) stay in the file as the lazy entries it makes (see NamedTensor): read (and
 * CRC-checked) when first used, or streamed into a model chunk by chunk. Every other tensor is
 * read now. `name` labels errors.
 */
export function readPth(source: PthSource, name = '<buffer>', opts: ReadPthOptions = {}): TensorMap {
  return withPth(source, name, ({ root }, size) => {
    const { dict } = findStateDict(root, name);
    const budget = { bytes: 2 * size + (1 << 20) };
    const out: TensorMap = new Map();
    for (const [k, t] of dict.map) {
      const ref = t as TensorRef;
      const span = opts.lazy ? lazySpan(ref, name) : null;
      out.set(
        k as string,
        span && opts.lazy
          ? opts.lazy([...ref.shape], span)
          : {
              shape: [...ref.shape],
              data: materialize(ref, `${name}: tensor '${String(k)}'`, budget),
              sourceDType: ref.storage.elementType,
            },
      );
    }
    return out;
  });
}

/** True when `t` is its whole storage in row-major order (strides of size-1 dimensions aside). */
function wholeContiguous(t: TensorRef): boolean {
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expect) return false;
    expect *= t.shape[i]!;
  }
  return t.offset === 0 && expect === t.storage.numel;
}

/** The span of a whole float32 storage kept in its own exact-size zip entry (CRC-checked as it streams), or null. */
function lazySpan(t: TensorRef, where: string): LazySpan | null {
  const entry = t.storage.zipEntry;
  if (!entry || t.storage.elementType !== 'float32' || t.storage.bytes !== null || !wholeContiguous(t)) return null;
  return {
    offset: entry.dataOffset,
    byteLength: entry.size,
    check: () => {
      let crc = 0;
      return {
        update: (bytes) => (crc = crc32Update(crc, bytes)),
        finish: () => {
          if (crc !== entry.crc32)
            throw new DataError(`${where}: corrupt zip archive: CRC-32 mismatch in entry '${entry.name}' (file corrupted)`);
        },
      };
    },
  };
}
