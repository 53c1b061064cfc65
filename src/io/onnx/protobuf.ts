// A minimal protocol-buffers writer (encode only), enough for ONNX's ModelProto. Written here
// rather than pulling in protobufjs: export needs about ten message types and no decoding, and
// a generated-code or reflection dependency would be far larger than these few lines. Each
// message is built bottom-up as a list of byte chunks, so large initializers (raw_data) are
// referenced, not copied, until the final concatenation.

const WIRE_VARINT = 0;
const WIRE_FIXED32 = 5;
const WIRE_LEN = 2;

function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (x >= 0x80n) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

export class Message {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  private key(field: number, wire: number): void {
    this.push(Uint8Array.from(varint((field << 3) | wire)));
  }

  get byteLength(): number {
    return this.length;
  }

  /** int32/int64/enum/bool field. */
  int(field: number, v: number | bigint | boolean): this {
    this.key(field, WIRE_VARINT);
    this.push(Uint8Array.from(varint(typeof v === 'boolean' ? (v ? 1 : 0) : v)));
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.push(Uint8Array.from(varint(b.length)));
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  /** Packed repeated int64. */
  packedInts(field: number, values: readonly number[]): this {
    const body = values.flatMap((v) => varint(v));
    return this.bytes(field, Uint8Array.from(body));
  }

  message(field: number, m: Message): this {
    this.key(field, WIRE_LEN);
    this.push(Uint8Array.from(varint(m.length)));
    for (const c of m.chunks) this.push(c);
    return this;
  }

  /** The encoded message as chunks (concatenate to get the bytes). */
  toChunks(): Uint8Array[] {
    return [...this.chunks];
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
