// Storage and workspace of the webgpu backend. A float32 storage names a GPU buffer by an id the
// client chose (the buffer itself lives in the GPU worker); storages a reshape makes share one
// handle, and the buffer is freed when the last of them is disposed or garbage collected (a
// FinalizationRegistry queues the free). A float64 storage wraps a reference-backend storage.
// Under precision 'f16' a buffer read as a matrix kernel's weights also carries its f16 copy,
// made on first use and dropped whenever the values change in place (write, axpy, an SGD step).
import type { DType, Storage, Workspace } from '../backend.js';

export const WEBGPU = 'webgpu';

/** One GPU buffer, how many storages hold it, and how to free it. */
export class Handle {
  private refs = 1;
  /** The f16 copy of the buffer's values (precision 'f16'), or null until a kernel asks for it. */
  f16: Handle | null = null;

  constructor(
    readonly id: number,
    private readonly free: (id: number) => void,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  /** The values are about to change in place: the f16 copy, now stale, is freed. */
  changed(): void {
    this.f16?.drop();
    this.f16 = null;
  }

  drop(): void {
    if (--this.refs > 0) return;
    this.changed();
    this.free(this.id);
  }
}

const finalizer = new FinalizationRegistry<Handle>((h) => h.drop());

/** What storages and workspaces share: a handle that can be released once. */
class Held {
  private handleOrNull: Handle | null;

  constructor(handle: Handle | null) {
    this.handleOrNull = handle;
    if (handle) finalizer.register(this, handle, this);
  }

  protected held(): Handle | null {
    return this.handleOrNull;
  }

  release(): void {
    if (!this.handleOrNull) return;
    finalizer.unregister(this);
    this.handleOrNull.drop();
    this.handleOrNull = null;
  }
}

export class GpuStorage extends Held implements Storage {
  readonly backend = WEBGPU;

  private constructor(
    readonly dtype: DType,
    readonly size: number,
    handle: Handle | null,
    /** The reference storage holding float64 data (null for float32). */
    readonly f64: Storage | null,
    /** The backend instance that made it (operands of another instance are refused). */
    readonly owner: object | null,
  ) {
    super(handle);
  }

  static of(handle: Handle, size: number, owner: object): GpuStorage {
    return new GpuStorage('float32', size, handle, null, owner);
  }

  static ofFloat64(ref: Storage): GpuStorage {
    return new GpuStorage('float64', ref.size, null, ref, null);
  }

  /** The buffer's id; throws when disposed. */
  id(what: string): number {
    return this.handle(what).id;
  }

  /** The buffer's handle (shared with reshapes); throws when disposed. */
  handle(what: string): Handle {
    const h = this.held();
    if (!h) throw new Error(`webgpu backend: ${what} was disposed and cannot be used`);
    return h;
  }

  /** Another storage on the same buffer (a reshape). */
  share(size: number): GpuStorage {
    const h = this.held();
    if (!h || !this.owner) throw new Error('webgpu backend: reshape of a disposed storage');
    return GpuStorage.of(h.retain(), size, this.owner);
  }
}

/** Saved data for a backward pass: max-pool argmax (int32) or the LRN scale (float32), or a reference workspace. */
export class GpuWorkspace extends Held implements Workspace {
  readonly backend = WEBGPU;

  constructor(
    readonly kind: 'maxpool' | 'lrn',
    handle: Handle | null,
    readonly size: number,
    readonly ref: Workspace | null,
    readonly owner: object | null,
  ) {
    super(handle);
  }

  id(): number {
    const h = this.held();
    if (!h) throw new Error(`webgpu backend: the ${this.kind} workspace was disposed`);
    return h.id;
  }
}
