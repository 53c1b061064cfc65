// NumPy .npy files (format versions 1.0, 2.0, 3.0): read and write. Supported dtypes are
// float32, float64, int64, int32 and uint8 (plus bool read as uint8), little- or big-endian on
// read; always little-endian, C order, version 1.0 on write. A Fortran-order file is read and
// transposed to C order. Every header field and the data size are checked against the bytes
// present, so a truncated or corrupted file is a DataError naming the file, never a crash or an
// allocation larger than the file. Platform-neutral (bytes in, bytes out); npy.ts reads and
// writes files on Node.
import { DataError } from '../errors.js';

export type NpyDType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8';

/** One array: `data` holds the elements in C (row-major) order. */
export type NpyArray =
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array }
  | { dtype: 'int64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array };

export type NpyData = NpyArray['data'];

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER_BYTES = 1 << 20;

const LITTLE_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const ITEM_SIZE: Record<NpyDType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1 };

/** numpy's type string for each dtype as written (little-endian). */
const DESCR: Record<NpyDType, string> = { float32: '<f4', float64: '<f8', int64: '<i8', int32: '<i4', uint8: '|u1' };

// ---- header literal parser (a Python dict of str → str | bool | tuple of int) --------------

type HeaderValue = string | boolean | number[];

class HeaderParser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly where: string,
  ) {}

  fail(what: string): never {
    throw new DataError(`${this.where}: bad .npy header (${what}) in ${JSON.stringify(this.text.slice(0, 120))}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text.charAt(this.pos))) this.pos++;
  }

  private expect(ch: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== ch) this.fail(`expected '${ch}' at offset ${this.pos}`);
    this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? '';
  }

  private string(): string {
    this.skipSpace();
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') this.fail(`expected a string at offset ${this.pos}`);
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    const s = this.text.slice(this.pos + 1, end);
    this.pos = end + 1;
    return s;
  }

  private integer(): number {
    this.skipSpace();
    const m = /^[0-9]+L?/.exec(this.text.slice(this.pos, this.pos + 24));
    if (!m) this.fail(`expected a non-negative integer at offset ${this.pos}`);
    this.pos += m[0].length;
    const n = Number(m[0].replace('L', ''));
    if (!Number.isSafeInteger(n)) this.fail(`dimension ${m[0]} is too large`);
    return n;
  }

  private value(): HeaderValue {
    const c = this.peek();
    if (c === "'" || c === '"') return this.string();
    if (c === '(') {
      this.pos++;
      const dims: number[] = [];
      while (this.peek() !== ')') {
        if (dims.length >= 64) this.fail('more than 64 dimensions');
        dims.push(this.integer());
        if (this.peek() === ',') this.pos++;
        else if (this.peek() !== ')') this.fail(`expected ',' or ')' at offset ${this.pos}`);
      }
      this.pos++;
      return dims;
    }
    for (const [word, v] of [
      ['True', true],
      ['False', false],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(`unexpected value at offset ${this.pos}`);
  }

  dict(): Map<string, HeaderValue> {
    const out = new Map<string, HeaderValue>();
    this.expect('{');
    while (this.peek() !== '}') {
      if (this.pos >= this.text.length) this.fail('unterminated dict');
      const key = this.string();
      this.expect(':');
      out.set(key, this.value());
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.fail(`expected ',' or '}' at offset ${this.pos}`);
    }
    this.pos++;
    return out;
  }
}

function parseDescr(descr: string, where: string): { dtype: NpyDType; bigEndian: boolean; bool: boolean } {
  const m = /^([<>|=]?)([fiub])([1248])$/.exec(descr);
  if (m) {
    const [, order, kind, sizeStr] = m;
    const size = Number(sizeStr);
    const bigEndian = order === '>';
    if (kind === 'f' && size === 4) return { dtype: 'float32', bigEndian, bool: false };
    if (kind === 'f' && size === 8) return { dtype: 'float64', bigEndian, bool: false };
    if (kind === 'i' && size === 8) return { dtype: 'int64', bigEndian, bool: false };
    if (kind === 'i' && size === 4) return { dtype: 'int32', bigEndian, bool: false };
    if (kind === 'u' && size === 1) return { dtype: 'uint8', bigEndian: false, bool: false };
    if (kind === 'b' && size === 1) return { dtype: 'uint8', bigEndian: false, bool: true };
  }
  throw new DataError(`${where}: unsupported .npy dtype '${descr}' (supported: float32, float64, int64, int32, uint8, bool)`);
}

// ---- reading -------------------------------------------------------------------------------

function allocate(dtype: NpyDType, n: number): NpyData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint8':
      return new Uint8Array(n);
  }
}

/** Decodes n elements (little- or big-endian) from `view` into `out`. */
function decodeElements(dtype: NpyDType, view: DataView, n: number, bigEndian: boolean, out: NpyData, bool: boolean): void {
  const le = !bigEndian;
  if (le && LITTLE_HOST && !bool) {
    // Same byte order as the host: one copy.
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    return;
  }
  switch (dtype) {
    case 'float32': {
      const o = out as Float32Array;
      for (let i = 0; i < n; i++) o[i] = view.getFloat32(i * 4, le);
      break;
    }
    case 'float64': {
      const o = out as Float64Array;
      for (let i = 0; i < n; i++) o[i] = view.getFloat64(i * 8, le);
      break;
    }
    case 'int64': {
      const o = out as BigInt64Array;
      for (let i = 0; i < n; i++) o[i] = view.getBigInt64(i * 8, le);
      break;
    }
    case 'int32': {
      const o = out as Int32Array;
      for (let i = 0; i < n; i++) o[i] = view.getInt32(i * 4, le);
      break;
    }
    case 'uint8': {
      const o = out as Uint8Array;
      for (let i = 0; i < n; i++) {
        const v = view.getUint8(i);
        o[i] = bool ? (v !== 0 ? 1 : 0) : v;
      }
      break;
    }
  }
}

/** Fortran (column-major) element order → C (row-major) order, for any rank. */
function fortranToC<T extends NpyData>(src: T, shape: readonly number[], dst: T): void {
  const rank = shape.length;
  const n = src.length;
  // Fortran strides: stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
  const fStride = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fStride[k] = s;
    s *= shape[k]!;
  }
  const idx = new Array<number>(rank).fill(0);
  let fOff = 0;
  for (let c = 0; c < n; c++) {
    (dst as unknown as { [i: number]: number | bigint })[c] = (src as unknown as { [i: number]: number | bigint })[fOff]!;
    // Advance the C-order multi-index (last axis fastest), updating the Fortran offset.
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]!++;
      fOff += fStride[k]!;
      if (idx[k]! < shape[k]!) break;
      fOff -= fStride[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
}

/**
 * Parses a .npy file held in `buf`. `name` (a path) only labels error messages.
 * Throws DataError on bad magic, header, dtype or size.
 */
export function parseNpy(buf: Uint8Array, name = '<buffer>'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new DataError(`${name}: not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = buf[6];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new DataError(`${name}: truncated .npy header`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DataError(`${name}: unsupported .npy format version ${major}.${buf[7]}`);
  }
  if (headerLen > MAX_HEADER_BYTES || headerStart + headerLen > buf.length) {
    throw new DataError(`${name}: truncated .npy header (${headerLen} header bytes declared, file has ${buf.length} bytes)`);
  }
  const headerText = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(buf.subarray(headerStart, headerStart + headerLen));
  const header = new HeaderParser(headerText, name).dict();
  const descr = header.get('descr');
  const fortran = header.get('fortran_order');
  const shapeV = header.get('shape');
  if (typeof descr !== 'string') throw new DataError(`${name}: .npy header has no 'descr' string`);
  if (typeof fortran !== 'boolean') throw new DataError(`${name}: .npy header has no 'fortran_order' bool`);
  if (!Array.isArray(shapeV)) throw new DataError(`${name}: .npy header has no 'shape' tuple`);
  const { dtype, bigEndian, bool } = parseDescr(descr, name);
  const itemSize = ITEM_SIZE[dtype];
  const dataStart = headerStart + headerLen;
  const available = buf.length - dataStart;
  // Element count, checked against the bytes present before anything is allocated. A zero
  // dimension makes a valid empty array (no data bytes), whatever the other dimensions are.
  let count = shapeV.includes(0) ? 0 : 1;
  for (const d of count === 0 ? [] : shapeV) {
    count *= d;
    if (count * itemSize > available) {
      throw new DataError(
        `${name}: .npy data is truncated: shape (${shapeV.join(', ')}) of ${descr} needs more than the ${available} data bytes present`,
      );
    }
  }
  const needed = count * itemSize;
  if (needed !== available) {
    throw new DataError(
      `${name}: .npy data size mismatch: shape (${shapeV.join(', ')}) of ${descr} needs ${needed} bytes, file holds ${available}`,
    );
  }
  const raw = new DataView(buf.buffer, buf.byteOffset + dataStart, needed);
  const decoded = allocate(dtype, count);
  decodeElements(dtype, raw, count, bigEndian, decoded, bool);
  let data = decoded;
  if (fortran && shapeV.length > 1) {
    data = allocate(dtype, count);
    fortranToC(decoded, shapeV, data);
  }
  return { dtype, shape: [...shapeV], data } as NpyArray;
}

// ---- writing -------------------------------------------------------------------------------

function dtypeOf(data: NpyData): NpyDType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return 'uint8';
}

/** Encodes an array as .npy (version 1.0, little-endian, C order, header padded to 64 bytes). */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`encodeNpy: bad dimension ${d} in shape [${shape.join(', ')}]`);
    count *= d;
  }
  if (count !== data.length) {
    throw new Error(`encodeNpy: ${data.length} values do not fill shape [${shape.join(', ')}] (${count} elements)`);
  }
  const dtype = dtypeOf(data);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('encodeNpy: header too long for format 1.0');
  const itemSize = ITEM_SIZE[dtype];
  const out = new Uint8Array(10 + header.length + count * itemSize);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const dataStart = 10 + header.length;
  // Typed arrays use the platform's byte order; swap on a big-endian host.
  if (LITTLE_HOST || itemSize === 1) {
    out.set(bytes, dataStart);
  } else {
    for (let i = 0; i < count; i++) {
      for (let b = 0; b < itemSize; b++) out[dataStart + i * itemSize + b] = bytes[i * itemSize + itemSize - 1 - b]!;
    }
  }
  return out;
}

/** Converts any numeric .npy array to Float32Array (int64 values beyond 2^24 lose precision). */
export function npyToFloat32(arr: NpyArray): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  if (arr.data instanceof BigInt64Array) return Float32Array.from(arr.data, (v) => Number(v));
  return Float32Array.from(arr.data);
}
