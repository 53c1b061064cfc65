// Run by test/distributed_binding.test.ts under mpirun (one process per rank): every collective of
// the alexnet_mpi binding against sums, gathers and broadcasts known in advance, for every element
// type at 1 element, 1001 elements and 1 MB, and (argument `--large`) at 100 MB for the two types
// gradients travel in (f32, bf16); the blocking all-gather and reduce-scatter of the hybrid step
// for every type but bf16. Prints one JSON line: the checks that failed (none: []).
import { Communicator, type CommBuffer } from '../src/distributed/communicator.js';

type Kind = 'f32' | 'f64' | 'i32' | 'u8' | 'bf16';
const BYTES: Record<Kind, number> = { f32: 4, f64: 8, i32: 4, u8: 1, bf16: 2 };

function make(kind: Kind, n: number): CommBuffer {
  switch (kind) {
    case 'f32':
      return new Float32Array(n);
    case 'f64':
      return new Float64Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'u8':
      return new Uint8Array(n);
    case 'bf16':
      return new Uint16Array(n);
  }
}

/** Small integers (exact in every type, bf16 included): element i of rank r. */
const value = (r: number, i: number): number => (r + 1) * ((i % 5) + 1);

const comm = new Communicator();
const { rank, size } = comm;
const failures: string[] = [];
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
/** bfloat16 bits of a small integer (exact: the low 16 bits of its float32 are zero). */
const bf16 = (x: number): number => {
  scratch[0] = x;
  return (scratchBits[0] ?? 0) >>> 16;
};
const fromBf16 = (h: number): number => {
  scratchBits[0] = h << 16;
  return scratch[0] ?? NaN;
};
const read = (kind: Kind, b: CommBuffer, i: number): number => (kind === 'bf16' ? fromBf16(b[i] ?? 0) : (b[i] ?? NaN));
const fill = (kind: Kind, b: CommBuffer, f: (i: number) => number): void => {
  for (let i = 0; i < b.length; i++) b[i] = kind === 'bf16' ? bf16(f(i)) : f(i);
};
/** Index of the first element that differs from `want`, or -1. */
const firstWrong = (kind: Kind, b: CommBuffer, want: (i: number) => number): number => {
  for (let i = 0; i < b.length; i++) if (read(kind, b, i) !== want(i)) return i;
  return -1;
};

let rankSum = 0;
for (let r = 0; r < size; r++) rankSum += r + 1;
const large = process.argv.includes('--large');
for (const kind of ['f32', 'f64', 'i32', 'u8', 'bf16'] as const) {
  const sizes = [BYTES[kind], 1001 * BYTES[kind], 1 << 20];
  if (large && (kind === 'f32' || kind === 'bf16')) sizes.push(100_000_000);
  for (const bytes of sizes) {
    const n = Math.floor(bytes / BYTES[kind]);
    const at = `${kind} × ${n}`;
    const sum = make(kind, n);
    fill(kind, sum, (i) => value(rank, i));
    await comm.allreduce(sum, 'sum');
    let bad = firstWrong(kind, sum, (i) => rankSum * ((i % 5) + 1));
    if (bad >= 0) failures.push(`allreduce sum ${at}: element ${bad} is ${read(kind, sum, bad)}`);
    if (kind !== 'bf16' && n <= 1001) {
      const max = make(kind, n);
      fill(kind, max, (i) => value(rank, i));
      await comm.allreduce(max, 'max');
      bad = firstWrong(kind, max, (i) => size * ((i % 5) + 1));
      if (bad >= 0) failures.push(`allreduce max ${at}: element ${bad}`);
    }
    const root = size - 1;
    const bc = make(kind, n);
    if (rank === root) fill(kind, bc, (i) => value(root, i));
    await comm.broadcast(bc, root);
    bad = firstWrong(kind, bc, (i) => value(root, i));
    if (bad >= 0) failures.push(`broadcast from ${root} ${at}: element ${bad}`);
    if (n * BYTES[kind] <= 1 << 20) {
      const send = make(kind, n);
      fill(kind, send, (i) => value(rank, i));
      const all = make(kind, n * size);
      await comm.allgather(send, all);
      bad = firstWrong(kind, all, (j) => value(Math.floor(j / n), j % n));
      if (bad >= 0) failures.push(`allgather ${at}: element ${bad}`);
      if (kind !== 'bf16') {
        const gathered = make(kind, n * size);
        comm.allgatherSync(send, gathered);
        bad = firstWrong(kind, gathered, (j) => value(Math.floor(j / n), j % n));
        if (bad >= 0) failures.push(`allgatherSync ${at}: element ${bad}`);
        // Block j of rank r holds value(r, j·n + i): rank r receives Σ_q value(q, r·n + i).
        const blocks = make(kind, n * size);
        fill(kind, blocks, (j) => value(rank, j));
        const mine = make(kind, n);
        comm.reduceScatterSync(blocks, mine);
        bad = firstWrong(kind, mine, (i) => rankSum * (((rank * n + i) % 5) + 1));
        if (bad >= 0) failures.push(`reduceScatterSync ${at}: element ${bad}`);
      }
    }
  }
}
const texts = await comm.allgatherText(`rank ${rank} ✓`);
if (texts.join('|') !== Array.from({ length: size }, (_, r) => `rank ${r} ✓`).join('|')) failures.push(`allgatherText: ${texts.join('|')}`);
// The binding refuses what it cannot do, as JavaScript errors (never a crash).
const refusals: [string, () => unknown][] = [
  ['a plain array', () => comm.allreduce([1, 2] as unknown as Float32Array)],
  ['max of bf16', () => comm.allreduce(new Uint16Array(2), 'max')],
  ['a root outside the job', () => comm.broadcast(new Float32Array(1), size)],
  ['a receive buffer of the wrong size', () => comm.allgather(new Float32Array(2), new Float32Array(3))],
  ['a blocking gather into a buffer of the wrong size', () => comm.allgatherSync(new Float32Array(2), new Float32Array(3))],
  ['a blocking scatter from a buffer of the wrong size', () => comm.reduceScatterSync(new Float32Array(3), new Float32Array(2))],
  ['a blocking scatter of bf16', () => comm.reduceScatterSync(new Uint16Array(2 * size), new Uint16Array(2))],
];
for (const [what, call] of refusals) {
  try {
    await call();
    failures.push(`${what} was accepted`);
  } catch {
    // expected
  }
}
console.log(JSON.stringify({ rank, size, failures }));
comm.finish();
