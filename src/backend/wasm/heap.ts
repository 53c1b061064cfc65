// The allocator of the wasm backend over the module's linear memory. Blocks are 16-byte aligned
// byte offsets; sizes are rounded up to size classes (16-byte steps up to 4 KiB, then eight
// steps per power of two, at most 12.5 % waste), a freed block goes onto its class's free list and
// is handed out again for the next request of that class, and new blocks are cut from the top,
// growing the memory when needed. Training allocates the same sizes every step, so after the
// first step every allocation is a reuse. Typed-array views are refreshed after growth (growth
// replaces the memory's ArrayBuffer).
import { DataError } from '../../errors.js';

const PAGE = 65536;
const MAX_BYTES = 4 * 1024 * 1024 * 1024;

/** The size class of a request: the byte size every block of the class has. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return b;
  const step = 2 ** (Math.floor(Math.log2(b - 1)) - 3);
  return Math.ceil(b / step) * step;
}

export class WasmHeap {
  private top: number;
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private buffer: ArrayBufferLike;
  private f32View: Float32Array;
  private i32View: Int32Array;
  private f64View: Float64Array;
  private u8View: Uint8Array;

  /** `base`: the first byte the module's static data and stack leave free. */
  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxBytes = MAX_BYTES,
  ) {
    this.top = Math.ceil(base / 16) * 16;
    this.buffer = memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.i32View = new Int32Array(this.buffer);
    this.f64View = new Float64Array(this.buffer);
    this.u8View = new Uint8Array(this.buffer);
  }

  /** A block of at least `bytes` bytes (16-byte aligned). Throws DataError when memory cannot grow that far. */
  alloc(bytes: number): number {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const reused = list?.pop();
    if (reused !== undefined) {
      this.sizes.set(reused, size);
      return reused;
    }
    const ptr = this.top;
    this.ensure(ptr + size, bytes);
    this.top = ptr + size;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /** Returns a block to its class's free list (a second free of the same block is an error). */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`wasm backend: block at ${ptr} is not allocated (freed twice?)`);
    this.sizes.delete(ptr);
    const list = this.free.get(size);
    if (list) list.push(ptr);
    else this.free.set(size, [ptr]);
  }

  /** Bytes handed out and not freed (for tests and diagnostics). */
  get liveBytes(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  /** The memory's current size in bytes. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  private ensure(end: number, asked: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maxBytes) {
      throw new DataError(
        `wasm backend: out of memory: a tensor of ${mib(asked)} does not fit in WebAssembly's ${mib(this.maxBytes)} (${mib(this.top)} in use); use a smaller batch or model`,
      );
    }
    // Grow by at least a quarter of the current size, so that many small growths stay cheap.
    const want = Math.min(this.maxBytes, Math.max(end, have + Math.floor(have / 4)));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        throw new DataError(`wasm backend: out of memory: cannot grow WebAssembly memory from ${mib(have)} to ${mib(end)}`);
      }
    }
    this.refresh();
  }

  private refresh(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.buffer && buffer.byteLength === this.f32View.byteLength) return;
    this.buffer = buffer;
    this.f32View = new Float32Array(buffer);
    this.i32View = new Int32Array(buffer);
    this.f64View = new Float64Array(buffer);
    this.u8View = new Uint8Array(buffer);
  }

  /** Views over the whole memory, valid until the next allocation. */
  get f32(): Float32Array {
    this.refresh();
    return this.f32View;
  }
  get i32(): Int32Array {
    this.refresh();
    return this.i32View;
  }
  get f64(): Float64Array {
    this.refresh();
    return this.f64View;
  }
  get u8(): Uint8Array {
    this.refresh();
    return this.u8View;
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
