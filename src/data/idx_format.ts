// IDX bytes (the MNIST format), platform-neutral: a 4-byte magic (0, 0, type code, number of
// dimensions), the dimensions as big-endian uint32, then the elements big-endian. Parsing checks
// every size against the bytes present. Reading files (and gzip) is idx.ts's, on Node; the web
// page inflates with the browser's DecompressionStream and parses here.
import { DataError } from '../errors.js';

export type IdxArray =
  | { dtype: 'uint8'; shape: number[]; data: Uint8Array }
  | { dtype: 'int8'; shape: number[]; data: Int8Array }
  | { dtype: 'int16'; shape: number[]; data: Int16Array }
  | { dtype: 'int32'; shape: number[]; data: Int32Array }
  | { dtype: 'float32'; shape: number[]; data: Float32Array }
  | { dtype: 'float64'; shape: number[]; data: Float64Array };

const TYPES: Record<number, { dtype: IdxArray['dtype']; size: number } | undefined> = {
  0x08: { dtype: 'uint8', size: 1 },
  0x09: { dtype: 'int8', size: 1 },
  0x0b: { dtype: 'int16', size: 2 },
  0x0c: { dtype: 'int32', size: 4 },
  0x0d: { dtype: 'float32', size: 4 },
  0x0e: { dtype: 'float64', size: 8 },
};

/** The largest IDX data readIdx accepts by default (2 GiB: Fashion-MNIST's train images are 47 MB). */
export const MAX_IDX_BYTES = 2 ** 31;

/** What an IDX header says: element type, shape, and where the data starts and how long it is. */
export interface IdxHeader {
  dtype: IdxArray['dtype'];
  elementSize: number;
  shape: number[];
  count: number;
  dataOffset: number;
  dataBytes: number;
}

/**
 * Parses the header at the start of `head`; null when `head` is too short to hold it all.
 * Throws DataError for a bad magic or type, or data larger than `maxBytes`.
 */
export function parseIdxHeader(head: Uint8Array, name: string, maxBytes: number): IdxHeader | null {
  if (head.length < 4) return null;
  const [zero0, zero1, code, ndim] = head;
  if (zero0 !== 0 || zero1 !== 0) throw new DataError(`${name}: not an IDX file (bad magic)`);
  const type = TYPES[code ?? -1];
  if (!type) throw new DataError(`${name}: unknown IDX element type 0x${(code ?? 0).toString(16)}`);
  if (!ndim) throw new DataError(`${name}: IDX header with 0 dimensions`);
  const dataOffset = 4 + 4 * ndim;
  if (head.length < dataOffset) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let i = 0; i < ndim; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    count *= d;
  }
  const dataBytes = count * type.size;
  if (dataBytes > maxBytes) {
    throw new DataError(`${name}: IDX shape [${shape.join(', ')}] needs ${dataBytes} data bytes, over the limit of ${maxBytes}`);
  }
  return { dtype: type.dtype, elementSize: type.size, shape, count, dataOffset, dataBytes };
}

/** The error for data whose size is not what the header says. */
export function sizeMismatch(name: string, h: IdxHeader, have: number | string): DataError {
  return new DataError(`${name}: IDX shape [${h.shape.join(', ')}] needs ${h.dataBytes} data bytes, file has ${have}`);
}

/** Parses IDX bytes; every size is checked against the bytes present. */
export function parseIdx(buf: Uint8Array, name = '<buffer>', maxBytes = MAX_IDX_BYTES): IdxArray {
  const header = parseIdxHeader(buf, name, maxBytes);
  if (!header) throw new DataError(`${name}: truncated IDX header (${buf.length} bytes)`);
  const { shape, count, dataOffset: offset, dataBytes: need } = header;
  if (buf.length - offset !== need) throw sizeMismatch(name, header, buf.length - offset);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (header.dtype) {
    case 'uint8':
      return { dtype: 'uint8', shape, data: buf.slice(offset, offset + need) };
    case 'int8':
      return { dtype: 'int8', shape, data: new Int8Array(buf.slice(offset, offset + need).buffer) };
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(offset + 2 * i, false);
      return { dtype: 'int16', shape, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(offset + 4 * i, false);
      return { dtype: 'int32', shape, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, false);
      return { dtype: 'float32', shape, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(offset + 8 * i, false);
      return { dtype: 'float64', shape, data };
    }
  }
}

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
