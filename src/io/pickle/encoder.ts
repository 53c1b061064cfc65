// A minimal pickle writer (protocol 2) for the structures torch.save produces: globals, tuples,
// strings, ints, bools, None, REDUCE, persistent ids and dict items. It emits opcodes only —
// callers compose them in the order Python's pickler would.
export class PickleEncoder {
  private readonly parts: number[] = [];

  private byte(...b: number[]): this {
    for (const x of b) this.parts.push(x);
    return this;
  }

  private bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }

  private u32(v: number): this {
    return this.byte(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  proto(): this {
    return this.byte(0x80, 2);
  }
  stop(): this {
    return this.byte(0x2e);
  }
  mark(): this {
    return this.byte(0x28);
  }
  none(): this {
    return this.byte(0x4e);
  }
  bool(v: boolean): this {
    return this.byte(v ? 0x88 : 0x89);
  }
  emptyTuple(): this {
    return this.byte(0x29);
  }
  emptyDict(): this {
    return this.byte(0x7d);
  }
  /** TUPLE from the last MARK. */
  tuple(): this {
    return this.byte(0x74);
  }
  reduce(): this {
    return this.byte(0x52);
  }
  binPersId(): this {
    return this.byte(0x51);
  }
  setItems(): this {
    return this.byte(0x75);
  }

  global(module: string, name: string): this {
    this.byte(0x63).bytes(new TextEncoder().encode(`${module}\n${name}\n`));
    return this;
  }

  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.byte(0x58).u32(b.length).bytes(b);
  }

  int(v: number): this {
    if (!Number.isSafeInteger(v)) throw new Error(`PickleEncoder.int: ${v} is not a safe integer`);
    if (v >= 0 && v < 256) return this.byte(0x4b, v);
    if (v >= 0 && v < 65536) return this.byte(0x4d, v & 0xff, v >> 8);
    if (v >= -0x80000000 && v <= 0x7fffffff) return this.byte(0x4a).u32(v >>> 0);
    // LONG1: little-endian two's complement, shortest form.
    let x = BigInt(v);
    const out: number[] = [];
    for (;;) {
      out.push(Number(x & 0xffn));
      x >>= 8n;
      const signBit = (out[out.length - 1]! & 0x80) !== 0;
      if ((x === 0n && !signBit) || (x === -1n && signBit)) break;
    }
    return this.byte(0x8a, out.length, ...out);
  }

  tupleOfInts(values: readonly number[]): this {
    if (values.length === 0) return this.emptyTuple();
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
