// Storage and workspace of the wasm backend. A float32 storage holds a block of the module's
// memory (shared by the storages a reshape makes: the block is freed when the last of them is
// disposed, or garbage collected: a FinalizationRegistry frees what was never disposed); a
// float64 storage wraps a reference-backend storage (float64 work runs on the reference kernels).
// A block may keep one derived copy of its values (packed convolution weights), checked against
// a version that every write into the block bumps.
import type { DType, Storage, Workspace } from '../backend.js';
import type { WasmHeap } from './heap.js';

export const WASM = 'wasm';

/**
 * A copy of a block's values in another layout (a convolution's weights packed for the GEMM),
 * valid while the block's version is the one it was made from.
 */
export interface Derived {
  /** What the layout depends on besides the values (the geometry). */
  readonly key: string;
  readonly ptr: number;
  version: number;
}

/** A block of the heap and how many storages still hold it. */
export class Block {
  private refs = 1;
  /** Bumped by every write into an existing block (Block.modified); a fresh block is version 0. */
  private versionCount = 0;
  private derivedCopy: Derived | null = null;
  constructor(
    readonly heap: WasmHeap,
    readonly ptr: number,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  drop(): void {
    if (--this.refs !== 0) return;
    this.heap.release(this.ptr);
    this.forget();
  }

  get version(): number {
    return this.versionCount;
  }

  /** Says the values changed: the derived copy, if any, no longer matches them. */
  modified(): void {
    this.versionCount++;
  }

  /** The derived copy made for `key`, if it still matches the values. */
  derived(key: string): Derived | null {
    const d = this.derivedCopy;
    return d !== null && d.key === key && d.version === this.versionCount ? d : null;
  }

  /**
   * Keeps a derived copy of `bytes` for `key`, made now by `fill(ptr)` (a block of the heap, reused
   * when the stale copy was for the same key); freed with this block.
   */
  derive(key: string, bytes: number, fill: (ptr: number) => void): Derived {
    let d = this.derivedCopy;
    if (d === null || d.key !== key) {
      this.forget();
      d = { key, ptr: this.heap.alloc(bytes), version: -1 };
      this.derivedCopy = d;
    }
    d.version = -1; // not valid until filled (fill may throw)
    fill(d.ptr);
    d.version = this.versionCount;
    return d;
  }

  private forget(): void {
    if (this.derivedCopy !== null) this.heap.release(this.derivedCopy.ptr);
    this.derivedCopy = null;
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
    return this.block(what).ptr;
  }

  /** The block (shared by reshapes); throws when disposed. */
  block(what: string): Block {
    if (!this.blockOrNull) throw new Error(`wasm backend: ${what} was disposed and cannot be used`);
    return this.blockOrNull;
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
