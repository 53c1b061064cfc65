// Gradient averaging in buckets, as PyTorch DDP does it: parameters are announced as their
// gradients become final during backward (layer by layer, last layer first); once a bucket holds
// about `bucketBytes` of them, its gradients are copied into one buffer and all-reduced on the
// communication thread while backward goes on. wait() then writes the averages back into .grad.
// Every rank builds the same buckets in the same order, so the collectives match.
import type { Tensor } from '../tensor.js';
import type { Communicator } from './communicator.js';

export type GradDtype = 'f32' | 'bf16';

/** PyTorch DDP's default bucket_cap_mb. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

interface Bucket {
  params: Tensor[];
  values: Float32Array;
  wire: Float32Array | Uint16Array;
  done: Promise<number>;
}

export class GradReducer {
  private pending: Tensor[] = [];
  private pendingBytes = 0;
  private buckets: Bucket[] = [];
  private readonly announced = new Set<Tensor>();
  /** Seconds the last wait() spent waiting for communication, and buckets it reduced. */
  lastWaitS = 0;
  lastBuckets = 0;

  constructor(
    private readonly comm: Communicator,
    /** The parameters to average, in forward order. */
    private readonly params: readonly Tensor[],
    private readonly gradDtype: GradDtype = 'f32',
    private readonly bucketBytes = DEFAULT_BUCKET_BYTES,
  ) {}

  /** Announces parameters whose gradients are final; launches a bucket once enough are waiting. */
  ready(params: readonly Tensor[]): void {
    for (const p of params) {
      if (this.announced.has(p) || !this.params.includes(p)) continue;
      this.announced.add(p);
      this.pending.push(p);
      this.pendingBytes += p.size * 4;
    }
    if (this.pendingBytes >= this.bucketBytes) this.launch();
  }

  /** Announces every parameter not announced yet (the first layers, after backward) and launches the last bucket. */
  flush(): void {
    const rest = [...this.params].reverse().filter((p) => !this.announced.has(p));
    this.ready(rest);
    if (this.pending.length) this.launch();
  }

  private launch(): void {
    const params = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const values = new Float32Array(params.reduce((n, p) => n + p.size, 0));
    let at = 0;
    for (const p of params) {
      if (!p.grad) throw new Error('GradReducer: a parameter announced as ready has no gradient');
      values.set(p.grad.toArray(), at);
      at += p.size;
    }
    let wire: Float32Array | Uint16Array = values;
    if (this.gradDtype === 'bf16') {
      wire = new Uint16Array(values.length);
      this.comm.addon.toBf16(values, wire);
    }
    this.buckets.push({ params, values, wire, done: this.comm.allreduce(wire) });
  }

  /** Waits for every bucket and writes the averaged gradients back; returns the seconds spent waiting. */
  async wait(): Promise<number> {
    const t0 = performance.now();
    const buckets = this.buckets;
    this.buckets = [];
    this.announced.clear();
    await Promise.all(buckets.map((b) => b.done));
    this.lastWaitS = (performance.now() - t0) / 1000;
    this.lastBuckets = buckets.length;
    const scale = 1 / this.comm.size;
    for (const b of buckets) {
      if (b.wire instanceof Uint16Array) this.comm.addon.fromBf16(b.wire, b.values, scale);
      else if (scale !== 1) for (let i = 0; i < b.values.length; i++) b.values[i] = (b.values[i] ?? 0) * scale;
      let at = 0;
      for (const p of b.params) {
        p.grad?.write(0, b.values.subarray(at, at + p.size));
        at += p.size;
      }
    }
    return this.lastWaitS;
  }
}
