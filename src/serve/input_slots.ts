// Shared memory for decoded images: a decode worker writes an image's preprocessed values straight
// into a slot (one SharedArrayBuffer each, shared with every worker once, when it is made), and
// the batch is assembled from the slots; the slot then returns to the free list. Without it every
// image was a fresh 0.6 MB buffer made in a worker and transferred to the main thread, and that
// stream of large buffers set off the main thread's garbage collector about every 50 images
// (external-memory pressure). The number of slots is bounded (`maxSlots`); past it an image
// travels in a buffer of its own, as before.

/** One image's room in shared memory. */
export interface InputSlot {
  /** Names the slot to the workers (its index in the order slots were made). */
  readonly id: number;
  readonly view: Float32Array;
}

export class InputSlots {
  private readonly all: InputSlot[] = [];
  private readonly free: InputSlot[] = [];

  /**
   * `floats`: the values of one preprocessed image; `maxSlots`: most slots ever made;
   * `onNew`: told of each new slot (the pool shares its buffer with the workers).
   */
  constructor(
    readonly floats: number,
    private readonly maxSlots: number,
    private readonly onNew: (id: number, buffer: SharedArrayBuffer) => void,
  ) {}

  /** A free slot (a new one while fewer than maxSlots exist), or null when all are in use. */
  acquire(): InputSlot | null {
    const reused = this.free.pop();
    if (reused) return reused;
    if (this.all.length >= this.maxSlots) return null;
    const buffer = new SharedArrayBuffer(this.floats * 4);
    const slot: InputSlot = { id: this.all.length, view: new Float32Array(buffer) };
    this.all.push(slot);
    this.onNew(slot.id, buffer);
    return slot;
  }

  /** Gives `slot` back (its values may be overwritten from now on). */
  release(slot: InputSlot): void {
    if (this.all[slot.id] !== slot) throw new Error(`input slots: slot ${slot.id} is not one of these`);
    if (this.free.includes(slot)) throw new Error(`input slots: slot ${slot.id} released twice`);
    this.free.push(slot);
  }

  /** Every slot made so far, by id (to share them with a worker that starts later). */
  get made(): readonly InputSlot[] {
    return this.all;
  }

  /** Slots in use now. */
  get inUse(): number {
    return this.all.length - this.free.length;
  }
}
