// A small ZIP reader and writer for PyTorch's container (torch.save since 1.6), written here
// instead of taken from npm: PyTorch only ever stores entries uncompressed (method 0), so the
// whole job is parsing and writing a few fixed headers — a few dozen lines that we can
// bounds-check completely — while fflate/yauzl would add inflate code we never use and their
// own allocation rules. Reading goes through a ByteSource at offsets (a file is never read whole:
// see ../file_source.ts for the Node side), checks every offset and size against the source, supports ZIP64 records (files or
// entries over 4 GiB) and verifies each entry's CRC-32 before returning it.
// Writing mirrors PyTorch's writer (miniz): entries padded with an extra field so their data
// starts at a multiple of 64 bytes, then the central directory (ZIP64 records when needed).
import { DataError } from '../../errors.js';

export interface ZipEntry {
  name: string;
  /** Offset of the entry's data in the file, and its size (stored entries only). */
  dataOffset: number;
  size: number;
  crc32: number;
}

/**
 * CRC-32 tables for slicing by 8: eight bytes per step, read as two words where the host is
 * little-endian (about 3x the byte-at-a-time loop; checking the entries is most of reading a
 * .pth from memory). CRC_TABLES[0] is the classic table; CRC_TABLES[k][n] is the CRC of byte n
 * followed by k zero bytes.
 */
const CRC_TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = t[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) for (let n = 0; n < 256; n++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t0[t[k - 1]![n]! & 0xff]!;
  return t;
})();

type Table = Uint32Array;
const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Table, Table, Table, Table, Table, Table, Table, Table];
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Continues a CRC-32 over more bytes: start from crc32Update(0, first), then feed the previous result. */
export function crc32Update(crc: number, data: Uint8Array): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  const n = data.length;
  let i = 0;
  if (LITTLE_ENDIAN && n >= 16) {
    // Bytes up to a 4-byte boundary, then eight bytes per step read as two little-endian words.
    for (; (data.byteOffset + i) % 4 !== 0; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    const words = new Uint32Array(data.buffer, data.byteOffset + i, ((n - i) >>> 3) << 1);
    for (let w = 0; w < words.length; w += 2) {
      const lo = c ^ words[w]!;
      const hi = words[w + 1]!;
      c =
        t7[lo & 0xff]! ^
        t6[(lo >>> 8) & 0xff]! ^
        t5[(lo >>> 16) & 0xff]! ^
        t4[lo >>> 24]! ^
        t3[hi & 0xff]! ^
        t2[(hi >>> 8) & 0xff]! ^
        t1[(hi >>> 16) & 0xff]! ^
        t0[hi >>> 24]!;
    }
    i += words.length * 4;
  }
  for (; i < n; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function crc32(data: Uint8Array): number {
  return crc32Update(0, data);
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;

export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5) && (buf[3] === 4 || buf[3] === 6);
}

/**
 * Random access to the bytes of a file or of a buffer. read(offset, length) returns exactly
 * `length` bytes (into `into` when given) or throws a DataError naming the file.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number, into?: Uint8Array): Uint8Array;
}

/** Bytes already in memory: reads are views (or copies into `into`). */
export function bufferSource(buf: Uint8Array): ByteSource {
  return {
    size: buf.length,
    read(offset, length, into) {
      const view = buf.subarray(offset, offset + length);
      if (!into) return view;
      into.set(view);
      return into;
    },
  };
}

/**
 * Bytes as a ByteSource, a ByteSource as itself. Any typed array counts as bytes, also one made in
 * another realm (a frame, a vm context), which `instanceof Uint8Array` would take for a source.
 */
export function asByteSource(input: Uint8Array | ByteSource): ByteSource {
  return ArrayBuffer.isView(input) ? bufferSource(new Uint8Array(input.buffer, input.byteOffset, input.byteLength)) : input;
}

/**
 * Reads the central directory of a ZIP file through a ByteSource: the tail (end records), the
 * directory and each local header, at their offsets; entries are read only when asked for.
 */
export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  /** Entry names in directory order. */
  readonly names: string[] = [];
  private readonly source: ByteSource;

  /** `source`: an open file (fileSource) or the file's bytes. */
  constructor(
    source: ByteSource | Uint8Array,
    private readonly where: string,
  ) {
    this.source = asByteSource(source);
    this.readDirectory();
  }

  private fail(msg: string): never {
    throw new DataError(`${this.where}: corrupt zip archive: ${msg}`);
  }

  /** `length` bytes at `offset`, as a view for the little-endian field readers below. */
  private region(offset: number, length: number): Region {
    if (offset < 0 || length < 0 || offset + length > this.source.size) this.fail(`read past the end at offset ${offset + length}`);
    const bytes = this.source.read(offset, length);
    return new Region(bytes, offset, (m) => this.fail(m));
  }

  private readDirectory(): void {
    const len = this.source.size;
    // End of central directory: 22 bytes plus a comment of at most 65535 bytes, at the end.
    const tailStart = Math.max(0, len - 22 - 0xffff);
    const tail = this.region(tailStart, len - tailStart);
    let eocd = -1;
    for (let p = len - 22; p >= tailStart; p--) {
      if (tail.u32(p) === SIG_EOCD) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record (file truncated?)');
    let count = tail.u16(eocd + 10);
    let dirSize = tail.u32(eocd + 12);
    let dirOffset = tail.u32(eocd + 16);
    if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < tailStart || tail.u32(loc) !== SIG_ZIP64_LOCATOR) this.fail('ZIP64 locator missing');
      const zOffset = tail.u64(loc + 8);
      const z = this.region(zOffset, 56);
      if (z.u32(zOffset) !== SIG_ZIP64_EOCD) this.fail('ZIP64 end-of-central-directory record missing');
      count = z.u64(zOffset + 32);
      dirSize = z.u64(zOffset + 40);
      dirOffset = z.u64(zOffset + 48);
    }
    if (dirOffset + dirSize > len) this.fail(`central directory (offset ${dirOffset}, ${dirSize} bytes) lies outside the ${len}-byte file`);
    if (count > dirSize / 46) this.fail(`${count} entries cannot fit in a ${dirSize}-byte directory`);
    const dir = this.region(dirOffset, dirSize);
    let p = dirOffset;
    const dirEnd = dirOffset + dirSize;
    for (let i = 0; i < count; i++) {
      if (p + 46 > dirEnd || dir.u32(p) !== SIG_CENTRAL) this.fail(`central directory entry ${i} is malformed`);
      const flags = dir.u16(p + 8);
      const method = dir.u16(p + 10);
      const crc = dir.u32(p + 16);
      let compSize = dir.u32(p + 20);
      let size = dir.u32(p + 24);
      const nameLen = dir.u16(p + 28);
      const extraLen = dir.u16(p + 30);
      const commentLen = dir.u16(p + 32);
      let localOffset = dir.u32(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > dirEnd) this.fail(`central directory entry ${i} overruns the directory`);
      const name = new TextDecoder('utf-8').decode(dir.slice(p + 46, nameLen));
      // ZIP64 extended information: the fields that are 0xffffffff, in order.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = dir.u16(e);
        const n = dir.u16(e + 2);
        if (e + 4 + n > extraEnd) this.fail(`extra field of '${name}' overruns its entry`);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (): number => {
            if (q + 8 > e + 4 + n) this.fail(`ZIP64 field of '${name}' is too short`);
            const v = dir.u64(q);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take();
          if (compSize === 0xffffffff) compSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
        }
        e += 4 + n;
      }
      if (flags & 1) this.fail(`entry '${name}' is encrypted`);
      if (method !== 0) this.fail(`entry '${name}' is compressed (method ${method}); PyTorch files store entries uncompressed`);
      if (compSize !== size) this.fail(`stored entry '${name}' has compressed size ${compSize} ≠ size ${size}`);
      const local = this.region(localOffset, Math.min(30, len - localOffset));
      if (local.u32(localOffset) !== SIG_LOCAL) this.fail(`local header of '${name}' not found at offset ${localOffset}`);
      const dataOffset = localOffset + 30 + local.u16(localOffset + 26) + local.u16(localOffset + 28);
      if (dataOffset + size > len)
        this.fail(`data of '${name}' (${size} bytes at offset ${dataOffset}) lies past the end of the ${len}-byte file`);
      if (this.entries.has(name)) this.fail(`duplicate entry '${name}'`);
      this.entries.set(name, { name, dataOffset, size, crc32: crc });
      this.names.push(name);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /**
   * The bytes of an entry, after checking its CRC-32: read from the file (into `into` when it is
   * given and of the entry's size: a Float32Array's bytes, say), or a view of a buffer source.
   */
  read(name: string, into?: Uint8Array): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw new DataError(`${this.where}: zip archive has no entry '${name}'`);
    if (into && into.length !== e.size)
      throw new Error(`ZipReader.read: ${into.length}-byte buffer for the ${e.size}-byte entry '${name}'`);
    const data = this.source.read(e.dataOffset, e.size, into);
    if (crc32(data) !== e.crc32) this.fail(`CRC-32 mismatch in entry '${name}' (file corrupted)`);
    return data;
  }
}

/** Bytes read from `base` on, with bounds-checked little-endian fields addressed by file offset. */
class Region {
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly base: number,
    private readonly fail: (msg: string) => never,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private at(offset: number, n: number): number {
    const i = offset - this.base;
    if (i < 0 || i + n > this.bytes.length) this.fail(`read past the end at offset ${offset}`);
    return i;
  }

  u16(offset: number): number {
    return this.view.getUint16(this.at(offset, 2), true);
  }

  u32(offset: number): number {
    return this.view.getUint32(this.at(offset, 4), true);
  }

  u64(offset: number): number {
    const v = this.view.getBigUint64(this.at(offset, 8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`64-bit field at offset ${offset} is too large`);
    return Number(v);
  }

  slice(offset: number, length: number): Uint8Array {
    const i = this.at(offset, length);
    return this.bytes.subarray(i, i + length);
  }
}

// ---- writer ----------------------------------------------------------------------------------

const ALIGNMENT = 64;

/** Builds a ZIP with stored entries whose data starts on 64-byte boundaries, like PyTorch's. */
export class ZipWriter {
  private readonly chunks: Uint8Array[] = [];
  private offset = 0;
  private readonly central: { name: Uint8Array; crc: number; size: number; offset: number }[] = [];

  add(name: string, data: Uint8Array): void {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const headerEnd = this.offset + 30 + nameBytes.length;
    const big = data.length >= 0xffffffff || this.offset >= 0xffffffff;
    const zip64Len = big ? 20 : 0;
    // Padding extra field ("FB", as PyTorch writes it): 4-byte header + filler to the boundary.
    const pad = (ALIGNMENT - ((headerEnd + zip64Len + 4) % ALIGNMENT)) % ALIGNMENT;
    const header = new Uint8Array(30 + nameBytes.length + zip64Len + 4 + pad);
    const v = new DataView(header.buffer);
    v.setUint32(0, SIG_LOCAL, true);
    v.setUint16(4, big ? 45 : 20, true);
    v.setUint16(6, 0, true); // flags
    v.setUint16(8, 0, true); // stored
    v.setUint16(10, 0, true); // time
    v.setUint16(12, 0x21, true); // date 1980-01-01
    v.setUint32(14, crc, true);
    v.setUint32(18, big ? 0xffffffff : data.length, true);
    v.setUint32(22, big ? 0xffffffff : data.length, true);
    v.setUint16(26, nameBytes.length, true);
    v.setUint16(28, zip64Len + 4 + pad, true);
    header.set(nameBytes, 30);
    let x = 30 + nameBytes.length;
    if (big) {
      v.setUint16(x, 0x0001, true);
      v.setUint16(x + 2, 16, true);
      v.setBigUint64(x + 4, BigInt(data.length), true);
      v.setBigUint64(x + 12, BigInt(data.length), true);
      x += 20;
    }
    v.setUint16(x, 0x4246, true); // 'FB'
    v.setUint16(x + 2, pad, true);
    header.fill(0x5a, x + 4); // 'Z' filler, as miniz writes
    this.central.push({ name: nameBytes, crc, size: data.length, offset: this.offset });
    this.push(header);
    this.push(data);
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.offset += b.length;
  }

  /** Writes the central directory and returns the chunks making up the whole file. */
  finish(): Uint8Array[] {
    const dirStart = this.offset;
    for (const c of this.central) {
      const big = c.size >= 0xffffffff || c.offset >= 0xffffffff;
      const zip64Len = big ? 28 : 0;
      const h = new Uint8Array(46 + c.name.length + zip64Len);
      const v = new DataView(h.buffer);
      v.setUint32(0, SIG_CENTRAL, true);
      v.setUint16(4, 45, true); // made by
      v.setUint16(6, big ? 45 : 20, true);
      v.setUint16(12, 0, true);
      v.setUint16(14, 0x21, true);
      v.setUint32(16, c.crc, true);
      v.setUint32(20, big ? 0xffffffff : c.size, true);
      v.setUint32(24, big ? 0xffffffff : c.size, true);
      v.setUint16(28, c.name.length, true);
      v.setUint16(30, zip64Len, true);
      v.setUint32(42, big ? 0xffffffff : c.offset, true);
      h.set(c.name, 46);
      if (big) {
        const x = 46 + c.name.length;
        v.setUint16(x, 0x0001, true);
        v.setUint16(x + 2, 24, true);
        v.setBigUint64(x + 4, BigInt(c.size), true);
        v.setBigUint64(x + 12, BigInt(c.size), true);
        v.setBigUint64(x + 20, BigInt(c.offset), true);
      }
      this.push(h);
    }
    const dirSize = this.offset - dirStart;
    const n = this.central.length;
    const needZip64 = n >= 0xffff || dirStart >= 0xffffffff || dirSize >= 0xffffffff;
    if (needZip64) {
      const z = new Uint8Array(56 + 20);
      const v = new DataView(z.buffer);
      const zOffset = this.offset;
      v.setUint32(0, SIG_ZIP64_EOCD, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(n), true);
      v.setBigUint64(32, BigInt(n), true);
      v.setBigUint64(40, BigInt(dirSize), true);
      v.setBigUint64(48, BigInt(dirStart), true);
      v.setUint32(56, SIG_ZIP64_LOCATOR, true);
      v.setBigUint64(64, BigInt(zOffset), true);
      v.setUint32(72, 1, true);
      this.push(z);
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, SIG_EOCD, true);
    v.setUint16(8, needZip64 ? 0xffff : n, true);
    v.setUint16(10, needZip64 ? 0xffff : n, true);
    v.setUint32(12, needZip64 ? 0xffffffff : dirSize, true);
    v.setUint32(16, needZip64 ? 0xffffffff : dirStart, true);
    this.push(end);
    return this.chunks;
  }
}
