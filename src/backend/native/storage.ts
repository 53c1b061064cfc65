// Storage and workspace of the native backend. A float32 storage wraps a native handle whose
// oneDNN memory desc may be blocked; a float64 storage wraps a reference-backend storage (float64
// work is delegated to the reference kernels). Native memory is freed by dispose(); a
// FinalizationRegistry frees what was never disposed once the storage is garbage collected.
import type { DType, Storage, Workspace } from '../backend.js';
import type { Handle, NativeAddon } from './addon.js';

export const NATIVE = 'native';

let finalizer: FinalizationRegistry<Handle> | null = null;

function registry(addon: NativeAddon): FinalizationRegistry<Handle> {
  finalizer ??= new FinalizationRegistry<Handle>((h) => addon.dispose(h));
  return finalizer;
}

export class NativeStorage implements Storage {
  readonly backend = NATIVE;
  private handleOrNull: Handle | null;

  private constructor(
    readonly dtype: DType,
    readonly size: number,
    handle: Handle | null,
    /** The reference storage holding float64 data (null for float32). */
    readonly f64: Storage | null,
  ) {
    this.handleOrNull = handle;
  }

  static of(addon: NativeAddon, handle: Handle, size: number): NativeStorage {
    const s = new NativeStorage('float32', size, handle, null);
    registry(addon).register(s, handle, s);
    return s;
  }

  static ofFloat64(ref: Storage): NativeStorage {
    return new NativeStorage('float64', ref.size, null, ref);
  }

  /** The native handle; throws when disposed. */
  handle(what: string): Handle {
    if (!this.handleOrNull) throw new Error(`native backend: ${what} was disposed and cannot be used`);
    return this.handleOrNull;
  }

  get disposed(): boolean {
    return this.handleOrNull === null && this.f64 === null;
  }

  release(addon: NativeAddon): void {
    if (!this.handleOrNull) return;
    finalizer?.unregister(this);
    addon.dispose(this.handleOrNull);
    this.handleOrNull = null;
  }
}

export class NativeWorkspace implements Workspace {
  readonly backend = NATIVE;
  private handleOrNull: Handle | null;

  /** `ref`: a reference-backend workspace, for work delegated to the reference kernels. */
  constructor(
    addon: NativeAddon | null,
    handle: Handle | null,
    readonly ref: Workspace | null,
  ) {
    this.handleOrNull = handle;
    if (addon && handle) registry(addon).register(this, handle, this);
  }

  handle(): Handle | null {
    return this.handleOrNull;
  }

  release(addon: NativeAddon): void {
    if (!this.handleOrNull) return;
    finalizer?.unregister(this);
    addon.dispose(this.handleOrNull);
    this.handleOrNull = null;
  }
}
