// Storage and workspace of the wasm backend. A float32 storage holds a block of the module's
// memory (shared by the storages a reshape makes: the block is freed when the last of them is
// disposed, or garbage collected: a FinalizationRegistry frees what was never disposed); a
// float64 storage wraps a reference-backend storage (float64 work runs on the reference kernels).
import type { DType, Storage, Workspace } from '../backend.js';
import type { WasmHeap } from './heap.js';

export const WASM = 'wasm';

/** A block of the heap and how many storages still hold it. */
export class Block {
  private refs = 1;
  constructor(
    readonly heap: WasmHeap,
    readonly ptr: number,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  drop(): void {
    if (--this.refs === 0) this.heap.release(this.ptr);
  }
}

const finalizer = new FinalizationRegistry<Block>((b) => b.drop());

export class WasmStorage implements Storage {
  readonly backend = WASM;
  private blockOrNull: Block | null;

  private constructor(
    readonly dtype: DType,
    readonly size: number,
    block: Block | null,
    /** The reference storage holding float64 data (null for float32). */
    readonly f64: Storage | null,
  ) {
    this.blockOrNull = block;
    if (block) finalizer.register(this, block, this);
  }

  static of(block: Block, size: number): WasmStorage {
    return new WasmStorage('float32', size, block, null);
  }

  static ofFloat64(ref: Storage): WasmStorage {
    return new WasmStorage('float64', ref.size, null, ref);
  }

  /** The block's byte offset; throws when disposed. */
  ptr(what: string): number {
    if (!this.blockOrNull) throw new Error(`wasm backend: ${what} was disposed and cannot be used`);
    return this.blockOrNull.ptr;
  }

  /** The heap the block lives on (null once disposed, and for float64). */
  get heap(): WasmHeap | null {
    return this.blockOrNull?.heap ?? null;
  }

  /** Another storage on the same block (a reshape). */
  share(size: number): WasmStorage {
    if (!this.blockOrNull) throw new Error('wasm backend: reshape of a disposed storage');
    return WasmStorage.of(this.blockOrNull.retain(), size);
  }

  get disposed(): boolean {
    return this.blockOrNull === null && this.f64 === null;
  }

  release(): void {
    if (!this.blockOrNull) return;
    finalizer.unregister(this);
    this.blockOrNull.drop();
    this.blockOrNull = null;
  }
}

/** Saved data for a backward pass: max-pool argmax (int32) or the LRN scale (float32), or a reference workspace. */
export class WasmWorkspace implements Workspace {
  readonly backend = WASM;
  private blockOrNull: Block | null;

  constructor(
    readonly kind: 'maxpool' | 'lrn',
    block: Block | null,
    readonly size: number,
    readonly ref: Workspace | null,
  ) {
    this.blockOrNull = block;
    if (block) finalizer.register(this, block, this);
  }

  get heap(): WasmHeap | null {
    return this.blockOrNull?.heap ?? null;
  }

  ptr(): number {
    if (!this.blockOrNull) throw new Error(`wasm backend: the ${this.kind} workspace was disposed`);
    return this.blockOrNull.ptr;
  }

  release(): void {
    if (!this.blockOrNull) return;
    finalizer.unregister(this);
    this.blockOrNull.drop();
    this.blockOrNull = null;
  }
}
