// Shared helpers for the native backend tests: the native backend (or the reason it is missing,
// so tests skip with a printed reason only where the addon is not built), the reference backend
// it is compared with, seeded inputs, and the relative-error check max|diff| / max|ref|.
import assert from 'node:assert/strict';
import type { Backend, FloatArray, Precision, Shape, Storage } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { tryLoadNative } from '../src/backend/native/load.js';
import { NativeBackend } from '../src/backend/native/native_backend.js';
import { Generator } from '../src/random.js';

export const reference = new ReferenceBackend();

function load(precision: Precision): { backend: NativeBackend | null; reason: string } {
  const r = tryLoadNative({ precision });
  return { backend: r.backend instanceof NativeBackend ? r.backend : null, reason: r.reason };
}

const f32 = load('f32');
export const native = f32.backend;
export const nativeBf16 = native && native.addon.info().bf16 ? load('bf16').backend : null;
/** `skip` option for node:test: false when the addon is loaded, else the reason (printed). */
export const skip: string | false = native ? false : `native addon unavailable: ${f32.reason}`;
if (skip) process.stdout.write(`# skipping native tests: ${skip}\n`);

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Uniform values in [-scale, scale) from a fixed seed. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const gen = new Generator(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (gen.uniform() * 2 - 1) * scale;
  return a;
}

/** The same data on both backends. */
export function pairOf(data: FloatArray, shape: Shape, nb: Backend = native!): { n: Storage; r: Storage } {
  return { n: nb.fromArray(data, shape), r: reference.fromArray(data, shape) };
}

export function relError(got: FloatArray, want: FloatArray): number {
  assert.equal(got.length, want.length, 'length');
  let diff = 0;
  let max = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    max = Math.max(max, Math.abs(want[i]!));
  }
  if (Number.isNaN(diff)) return Number.POSITIVE_INFINITY;
  return max === 0 ? diff : diff / max;
}

/** Asserts max|native − reference| / max|reference| ≤ tol for storages of `shape`. */
export function assertClose(what: string, nb: Backend, n: Storage, r: Storage, shape: Shape, tol = 1e-4): void {
  const got = nb.toArray(n, shape);
  const want = reference.toArray(r, shape);
  const err = relError(got, want);
  assert.ok(
    err <= tol,
    `${what}: relative error ${err.toExponential(3)} > ${tol} (first values native ${Array.from(got.slice(0, 4))} vs reference ${Array.from(want.slice(0, 4))})`,
  );
}
