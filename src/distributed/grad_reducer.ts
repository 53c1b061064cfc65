// Gradient averaging in buckets, as PyTorch DDP does it: parameters are announced as their
// gradients become final during backward (layer by layer, last layer first); once a bucket holds
// about `bucketBytes` of them, its gradients are copied into one buffer and all-reduced (summed) on
// the communication thread while backward goes on. wait() then writes the sums back into .grad:
// the caller runs backward from loss / N, so the sums are the averages. Where the backend can read
// a storage into a given array (readInto: native, reference), each bucket's buffer is allocated
// once and reused every step, and each gradient is copied once into it (no fresh array per step).
// Every rank builds the same buckets in the same order, so the collectives match.
import type { Tensor } from '../tensor.js';
import type { Communicator } from './communicator.js';

export type GradDtype = 'f32' | 'bf16';

/** PyTorch DDP's default bucket_cap_mb. */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

/**
 * Largest single MPI_Allreduce: a bucket travels as several calls of at most this size, queued
 * together. Open MPI 4.1's allreduce of one 25–100 MB message ran at 0.2–0.5 GB/s here while
 * 1 MB messages reach several GB/s; the same 100 MB in 1 MB calls ran at 3.5–4 GB/s (BENCHMARKS.md).
 */
export const MAX_CALL_BYTES = 1024 * 1024;

/** All-reduces `buf` (sum) as calls of at most MAX_CALL_BYTES, in order. */
export function allreduceChunked(comm: Communicator, buf: Float32Array | Uint16Array): Promise<number> {
  const step = MAX_CALL_BYTES / buf.BYTES_PER_ELEMENT;
  const calls: Promise<number>[] = [];
  for (let at = 0; at < buf.length || at === 0; at += step) calls.push(comm.allreduce(buf.subarray(at, Math.min(buf.length, at + step))));
  return Promise.all(calls).then((s) => s.reduce((a, b) => a + b, 0));
}

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
  /** Buffers of multi-parameter buckets, by bucket index, kept across steps. */
  private readonly spare: Float32Array[] = [];
  /** Their bf16 wire buffers (--grad-dtype bf16). */
  private readonly spareBits: Uint16Array[] = [];
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

  /** Bucket k's buffer of earlier steps (the buckets are the same every step), or a new one. Only used after the previous step's wait(). */
  private reuse(k: number, params: readonly Tensor[]): Float32Array {
    const n = params.reduce((sum, p) => sum + p.size, 0);
    let buf = this.spare[k];
    if (!buf || buf.length !== n) {
      buf = new Float32Array(n);
      this.spare[k] = buf;
    }
    return buf;
  }

  /** The bucket's gradients in one buffer: read straight into the bucket's reused buffer where the backend can. */
  private gather(params: readonly Tensor[]): Float32Array {
    const grads = params.map((p) => {
      if (!p.grad) throw new Error('GradReducer: a parameter announced as ready has no gradient');
      return p.grad;
    });
    if (grads.every((g) => g.backend.readInto)) {
      const values = this.reuse(this.buckets.length, params);
      let at = 0;
      for (const g of grads) {
        g.backend.readInto?.(g.storage, g.shape, values, at);
        at += g.size;
      }
      return values;
    }
    const arrays = grads.map((g) => {
      const a = g.toArray();
      return a instanceof Float32Array ? a : Float32Array.from(a);
    });
    // One parameter (FC6's and FC7's weights, 86% of AlexNet): its fresh copy is the buffer.
    if (arrays.length === 1 && arrays[0]) return arrays[0];
    const values = this.reuse(this.buckets.length, params);
    let at = 0;
    for (const a of arrays) {
      values.set(a, at);
      at += a.length;
    }
    return values;
  }

  private launch(): void {
    const params = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const values = this.gather(params);
    let wire: Float32Array | Uint16Array = values;
    if (this.gradDtype === 'bf16') {
      const k = this.buckets.length;
      let bits = this.spareBits[k];
      if (!bits || bits.length !== values.length) {
        bits = new Uint16Array(values.length);
        this.spareBits[k] = bits;
      }
      wire = bits;
      this.comm.addon.toBf16(values, wire);
    }
    this.buckets.push({ params, values, wire, done: allreduceChunked(this.comm, wire) });
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
    for (const b of buckets) {
      if (b.wire instanceof Uint16Array) this.comm.addon.fromBf16(b.wire, b.values, 1);
      let at = 0;
      for (const p of b.params) {
        p.grad?.write(0, b.values.subarray(at, at + p.size));
        at += p.size;
      }
    }
    return this.lastWaitS;
  }
}
