// safetensors files: an 8-byte little-endian header length, a JSON header mapping each tensor
// name to {dtype, shape, data_offsets: [begin, end]} (offsets into the data section that
// follows) plus an optional "__metadata__" string map, then the raw little-endian data.
// Reading validates the header, every dtype/shape/offset, that the byte ranges match the
// shapes, do not overlap and cover the data section exactly (as the reference implementation
// requires). Platform-neutral: bytes or a ByteSource read at offsets, never whole (a file on
// Node: safetensors.ts), whose float32 tensors may stay where they are (lazy entries, streamed
// into a model). Writing emits float32 and int8 tensors with the header padded to 8 bytes.
import { DataError } from '../errors.js';
import { ELEMENT_SIZE, toFloat32, type ElementType } from './dtype_convert.js';
import { asByteSource, type ByteSource } from './pth/zip.js';
import { numel, type NamedTensor, type TensorMap } from './tensor_map.js';

const DTYPES: Record<string, ElementType> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsContents {
  tensors: TensorMap;
  metadata: Record<string, string>;
}

interface Span {
  name: string;
  begin: number;
  end: number;
}

interface Layout {
  metadata: Record<string, string>;
  entries: { name: string; type: ElementType; shape: number[]; begin: number }[];
  /** File offset of the data section (tensor offsets count from here). */
  dataStart: number;
}

/** Reads and checks the header of the safetensors file behind `source` (the data section is not read). */
function readLayout(source: ByteSource, where: string): Layout {
  const fail = (msg: string): never => {
    throw new DataError(`${where}: bad safetensors file: ${msg}`);
  };
  const size = source.size;
  if (size < 8) fail(`only ${size} bytes (the header length alone needs 8)`);
  const prefix = source.read(0, 8);
  const headerLen = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER, size - 8))) fail(`header length ${headerLen} exceeds the ${size - 8} bytes after it`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(source.read(8, n)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = size - dataStart;
  const metadata: Record<string, string> = {};
  const spans: Span[] = [];
  const entries: Layout['entries'] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value for '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (info === null || typeof info !== 'object' || Array.isArray(info)) fail(`entry '${name}' is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)}`);
    const type = DTYPES[dtype as string] as ElementType;
    if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor '${name}' has bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0))
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) fail(`tensor '${name}' data_offsets [${begin}, ${end}] lie outside the ${dataLen}-byte data section`);
    const count = numel(shape as number[]);
    if (count * ELEMENT_SIZE[type] !== end - begin)
      fail(
        `tensor '${name}' of shape [${(shape as number[]).join(', ')}] ${dtype} needs ${count * ELEMENT_SIZE[type]} bytes, data_offsets give ${end - begin}`,
      );
    spans.push({ name, begin, end });
    entries.push({ name, type, shape: [...(shape as number[])], begin });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const s of spans) {
    if (s.begin < covered) fail(`tensor '${s.name}' overlaps another tensor's data`);
    if (s.begin > covered) fail(`gap in the data section before tensor '${s.name}' (bytes ${covered}..${s.begin})`);
    covered = s.end;
  }
  if (covered !== dataLen) fail(`data section has ${dataLen} bytes, tensors use ${covered}`);
  return { metadata, entries, dataStart };
}

/** The tensors of a checked layout, each read from `source` now (converted to float32). */
function readTensors(source: ByteSource, layout: Layout): TensorMap {
  const tensors: TensorMap = new Map();
  for (const e of layout.entries) {
    const count = numel(e.shape);
    const bytes = source.read(layout.dataStart + e.begin, count * ELEMENT_SIZE[e.type]);
    tensors.set(e.name, { shape: e.shape, data: toFloat32(e.type, bytes, 0, count), sourceDType: e.type });
  }
  return tensors;
}

/** Reads safetensors held in `buf` (`where` labels errors). */
export function parseSafetensors(buf: Uint8Array, where = '<buffer>'): SafetensorsContents {
  return readSafetensors(buf, where);
}

/** How readSafetensors reads: `lazy` makes the entry for a float32 tensor left where it is. */
export interface ReadSafetensorsOptions {
  lazy?: (shape: number[], span: { offset: number; byteLength: number }) => NamedTensor;
}

/**
 * Reads safetensors from bytes or a ByteSource at offsets (header first, then each tensor), never
 * whole; with `lazy`, its float32 tensors stay in the source as the lazy entries it makes.
 */
export function readSafetensors(input: Uint8Array | ByteSource, name = '<buffer>', opts: ReadSafetensorsOptions = {}): SafetensorsContents {
  const source = asByteSource(input);
  const layout = readLayout(source, name);
  const { lazy } = opts;
  if (!lazy) return { tensors: readTensors(source, layout), metadata: layout.metadata };
  // Other element types are converted now (they are not what a model is streamed from).
  const eager = readTensors(source, { ...layout, entries: layout.entries.filter((e) => e.type !== 'float32') });
  const tensors: TensorMap = new Map();
  for (const e of layout.entries) {
    const span = { offset: layout.dataStart + e.begin, byteLength: numel(e.shape) * 4 };
    tensors.set(e.name, e.type === 'float32' ? lazy(e.shape, span) : eager.get(e.name)!);
  }
  return { tensors, metadata: layout.metadata };
}

/** Encodes float32 (F32) and int8 (I8: quantized weights) tensors, in map order, with optional string metadata. */
export function encodeSafetensors(
  tensors: Map<string, { shape: readonly number[]; data: Float32Array | Int8Array }>,
  metadata?: Record<string, string>,
): Uint8Array[] {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new Error("encodeSafetensors: '__metadata__' cannot name a tensor");
    if (numel(t.shape) !== t.data.length)
      throw new Error(`encodeSafetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    header[name] = {
      dtype: t.data instanceof Int8Array ? 'I8' : 'F32',
      shape: [...t.shape],
      data_offsets: [offset, offset + t.data.byteLength],
    };
    chunks.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += t.data.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - ((8 + json.length) % 8)) % 8)).fill(0x20); // padded with spaces
  headerBytes.set(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  return [prefix, headerBytes, ...chunks];
}
