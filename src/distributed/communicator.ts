// MPI_COMM_WORLD for JavaScript: the alexnet_mpi addon's collectives (each a promise; the MPI calls
// run on the addon's own communication thread, so JS computes while buffers travel) and the job's
// end. A job that ends by agreement (every rank finished, or every rank stops on a signal, or every
// rank refuses the same bad start) finalises MPI; a rank that dies alone leaves without finalising,
// and mpirun then ends the others.
import { DataError } from '../errors.js';
import { loadNativeAddon } from '../native_addons.js';

/** Buffers the addon reduces: Uint16Array holds bfloat16 bits. */
export type CommBuffer = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

export interface MpiAddon {
  init(): { rank: number; size: number; threadLevel: number };
  allreduce(buf: CommBuffer, op?: 'sum' | 'max' | 'min'): Promise<number>;
  allgather(send: CommBuffer, recv: CommBuffer): Promise<number>;
  broadcast(buf: CommBuffer, root: number): Promise<number>;
  /** Blocking all-gather (seconds): behind every queued collective; for collectives inside one forward/backward. */
  allgatherSync(send: CommBuffer, recv: CommBuffer): number;
  /** Blocking reduce-scatter (sum): rank r receives the sum of every rank's block r; send.length = size × recv.length. */
  reduceScatterSync(send: CommBuffer, recv: CommBuffer): number;
  barrier(): Promise<number>;
  finalize(): void;
  abort(code: number): void;
  toBf16(src: Float32Array, dst: Uint16Array): void;
  fromBf16(src: Uint16Array, dst: Float32Array, scale: number): void;
}

let loaded: MpiAddon | null = null;

/** The addon, loaded once; a DataError saying what to install when it is missing. */
export function mpiAddon(): MpiAddon {
  if (loaded) return loaded;
  const { addon, reason } = loadNativeAddon<MpiAddon>('alexnet_mpi');
  if (!addon) throw new DataError(`this process runs under MPI, but the MPI binding is not available: ${reason}`);
  loaded = addon;
  return addon;
}

export class Communicator {
  readonly rank: number;
  readonly size: number;
  private ended = false;

  constructor(readonly addon: MpiAddon = mpiAddon()) {
    const w = addon.init();
    this.rank = w.rank;
    this.size = w.size;
  }

  get primary(): boolean {
    return this.rank === 0;
  }

  allreduce<T extends CommBuffer>(buf: T, op: 'sum' | 'max' | 'min' = 'sum'): Promise<number> {
    return this.addon.allreduce(buf, op);
  }

  allgather<T extends CommBuffer>(send: T, recv: T): Promise<number> {
    return this.addon.allgather(send, recv);
  }

  allgatherSync<T extends CommBuffer>(send: T, recv: T): number {
    return this.addon.allgatherSync(send, recv);
  }

  reduceScatterSync<T extends CommBuffer>(send: T, recv: T): number {
    return this.addon.reduceScatterSync(send, recv);
  }

  broadcast<T extends CommBuffer>(buf: T, root = 0): Promise<number> {
    return this.addon.broadcast(buf, root);
  }

  barrier(): Promise<number> {
    return this.addon.barrier();
  }

  /** Rank 0's bytes on every rank (lengths first, so only rank 0 needs to know them). */
  async broadcastBytes(bytes: Uint8Array | null): Promise<Uint8Array> {
    const len = new Float64Array([bytes?.length ?? 0]);
    await this.broadcast(len);
    const out = this.primary && bytes ? bytes : new Uint8Array(len[0] ?? 0);
    await this.broadcast(out);
    return out;
  }

  /** Every rank's string, in rank order. */
  async allgatherText(text: string): Promise<string[]> {
    const mine = new TextEncoder().encode(text);
    const lens = new Int32Array(this.size);
    await this.allgather(new Int32Array([mine.length]), lens);
    const width = Math.max(...lens);
    const send = new Uint8Array(width);
    send.set(mine);
    const all = new Uint8Array(width * this.size);
    await this.allgather(send, all);
    const dec = new TextDecoder();
    return [...lens].map((n, r) => dec.decode(all.subarray(r * width, r * width + n)));
  }

  /** Ends MPI after a finish every rank agreed on (MPI_Finalize waits for every rank). */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.addon.finalize();
  }

  /** Whether finish() ran. */
  get finished(): boolean {
    return this.ended;
  }
}
