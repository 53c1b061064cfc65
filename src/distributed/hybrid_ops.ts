// The two differentiable collectives of Krizhevsky's hybrid parallelism, as autograd ops whose
// MPI calls block (they sit inside one synchronous forward and backward):
//   gatherRows: [b, F] per rank → [N·b, F] on every rank (ranks' rows in rank order);
//     backward: every rank holds a partial gradient of the whole batch (its own units' share), so
//     a reduce-scatter sums them and hands each rank its own b rows.
//   gatherColumns: [M, units of rank r] → [M, all units] (UnitSplit's layout);
//     backward: the same partial sums, reduce-scattered along the units.
// Both backward passes sum over ranks, so the gradient a rank feeds in is its share (the loss's
// gradient, the same on every rank, enters as loss / N).
import type { Storage } from '../backend/backend.js';
import { makeResult, type Tensor } from '../tensor.js';
import type { Communicator } from './communicator.js';
import type { UnitSplit } from './unit_split.js';

/** Seconds spent in blocking collectives since the last reset (the step's communication time). */
export const collectiveClock = { seconds: 0 };

function f32(t: Tensor | { backend: Tensor['backend']; storage: Storage; shape: readonly number[] }): Float32Array {
  const a = t.backend.toArray(t.storage, t.shape);
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

export function gatherRows(comm: Communicator, x: Tensor): Tensor {
  const [rows = 0, cols = 0] = x.shape;
  const backend = x.backend;
  const all = new Float32Array(comm.size * rows * cols);
  collectiveClock.seconds += comm.allgatherSync(f32(x), all);
  const shape = [comm.size * rows, cols];
  return makeResult(backend.fromArray(all, shape), shape, backend, [x], () => ({
    name: 'gather_rows',
    inputs: [x],
    backward: (gy) => {
      const mine = new Float32Array(rows * cols);
      collectiveClock.seconds += comm.reduceScatterSync(f32({ backend, storage: gy, shape }), mine);
      return [backend.fromArray(mine, x.shape)];
    },
    release: () => {},
  }));
}

export function gatherColumns(comm: Communicator, z: Tensor, split: UnitSplit): Tensor {
  const [rows = 0, width = 0] = z.shape;
  const backend = z.backend;
  const w = split.widest;
  let send = f32(z);
  if (width < w) {
    const padded = new Float32Array(rows * w);
    for (let m = 0; m < rows; m++) padded.set(send.subarray(m * width, (m + 1) * width), m * w);
    send = padded;
  }
  const blocks = new Float32Array(comm.size * rows * w);
  collectiveClock.seconds += comm.allgatherSync(send, blocks);
  const shape = [rows, split.units];
  return makeResult(backend.fromArray(split.assembleColumns(blocks, rows), shape), shape, backend, [z], () => ({
    name: 'gather_columns',
    inputs: [z],
    backward: (gy) => {
      const mine = new Float32Array(rows * w);
      collectiveClock.seconds += comm.reduceScatterSync(split.splitColumns(f32({ backend, storage: gy, shape }), rows), mine);
      let g = mine;
      if (width < w) {
        g = new Float32Array(rows * width);
        for (let m = 0; m < rows; m++) g.set(mine.subarray(m * w, m * w + width), m * width);
      }
      return [backend.fromArray(g, z.shape)];
    },
    release: () => {},
  }));
}

/**
 * Every rank's rows of a sliced parameter ([units of rank r, cols], row-major) gathered into the
 * whole [units, cols] on every rank, in calls of about 1 MB per rank (Open MPI's large single
 * messages are slow here: see grad_reducer.ts).
 */
export function gatherUnitRows(comm: Communicator, mine: Float32Array, split: UnitSplit, cols: number): Float32Array {
  const out = new Float32Array(split.units * cols);
  const own = split.width(comm.rank);
  const chunk = Math.max(1, Math.floor((1 << 20) / 4 / Math.max(cols, 1)));
  for (let at = 0; at < split.widest; at += chunk) {
    const k = Math.min(chunk, split.widest - at);
    const send = new Float32Array(k * cols);
    const have = Math.max(0, Math.min(k, own - at));
    send.set(mine.subarray(at * cols, (at + have) * cols));
    const recv = new Float32Array(comm.size * k * cols);
    comm.allgatherSync(send, recv);
    for (let q = 0; q < comm.size; q++) {
      const rows = Math.max(0, Math.min(k, split.width(q) - at));
      out.set(recv.subarray(q * k * cols, (q * k + rows) * cols), (split.start(q) + at) * cols);
    }
  }
  return out;
}
