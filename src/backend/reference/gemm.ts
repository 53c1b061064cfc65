// Cache-blocked single-thread GEMM in plain TypeScript, row-major:
//   C [m, n] = alpha · op(A) [m, k] · op(B) [k, n] + beta · C
// op(A) is A [m, k] (lda ≥ k) or, transposed, A stored as [k, m] (lda ≥ m); likewise op(B) is
// B [k, n] or B stored as [n, k]. Operands are addressed by (array, offset, leading dimension)
// so that callers can multiply slices (one image, one group) without copying.
//
// Blocking follows the Goto/BLIS scheme: B is packed by KC×NC blocks into NR-wide panels, A by
// MC×KC blocks into MR-high panels, both into Float64Array (so the micro-kernel reads one
// element kind and never converts), zero-padded at the edges. A 4×4 micro-kernel keeps its
// 16 accumulators in locals over the whole KC depth. Accumulation is in float64.
// Row vectors (m = 1, the batch-1 classifier) take a packing-free path that streams B once.
import type { FloatArray } from '../backend.js';

const MR = 4;
const NR = 4;
const KC = 256;
const MC = 128;
const NC = 2048;

const packedA = new Float64Array(MC * KC);
let packedB = new Float64Array(KC * NC);
const tile = new Float64Array(MR * NR);
let rowScratch = new Float64Array(1024);

/** C = alpha · op(A) · op(B) + beta · C (see the file header for the addressing). */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  aOff: number,
  lda: number,
  b: FloatArray,
  bOff: number,
  ldb: number,
  beta: number,
  c: FloatArray,
  cOff: number,
  ldc: number,
): void {
  if (m <= 0 || n <= 0) return;
  scaleC(m, n, beta, c, cOff, ldc);
  if (k <= 0 || alpha === 0) return;
  if (m === 1) {
    // A is a row vector: element p sits at aOff + p (no transpose) or aOff + p·lda (transposed).
    rowTimesMatrix(transB, n, k, alpha, a, aOff, transA ? lda : 1, b, bOff, ldb, c, cOff);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(transB, b, bOff, ldb, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(transA, a, aOff, lda, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          const ib = jr * kc;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            kernel4x4(kc, packedA, ir * kc, packedB, ib, tile);
            storeTile(tile, mr, nr, alpha, c, cOff + (ic + ir) * ldc + jc + jr, ldc);
          }
        }
      }
    }
  }
}

/** C = beta · C over the m×n window (beta = 0 overwrites, so NaN/garbage in C does not leak). */
function scaleC(m: number, n: number, beta: number, c: FloatArray, cOff: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = cOff + i * ldc;
    if (beta === 0) c.fill(0, row, row + n);
    else for (let j = row; j < row + n; j++) c[j]! *= beta;
  }
}

/** Packs op(A)[ic:ic+mc, pc:pc+kc] into MR-high panels: panel r holds, for each p, MR values. */
function packA(transA: boolean, a: FloatArray, aOff: number, lda: number, ic: number, mc: number, pc: number, kc: number): void {
  const dst = packedA;
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = Math.min(MR, mc - ir);
    const base = ir * kc;
    if (!transA) {
      for (let r = 0; r < MR; r++) {
        if (r < mr) {
          const src = aOff + (ic + ir + r) * lda + pc;
          for (let p = 0; p < kc; p++) dst[base + p * MR + r] = a[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) dst[base + p * MR + r] = 0;
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = aOff + (pc + p) * lda + ic + ir;
        const d = base + p * MR;
        for (let r = 0; r < MR; r++) dst[d + r] = r < mr ? a[src + r]! : 0;
      }
    }
  }
}

/** Packs op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels: panel j holds, for each p, NR values. */
function packB(transB: boolean, b: FloatArray, bOff: number, ldb: number, pc: number, kc: number, jc: number, nc: number): void {
  const need = kc * (Math.ceil(nc / NR) * NR);
  if (packedB.length < need) packedB = new Float64Array(need);
  const dst = packedB;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const base = jr * kc;
    if (!transB) {
      for (let p = 0; p < kc; p++) {
        const src = bOff + (pc + p) * ldb + jc + jr;
        const d = base + p * NR;
        if (nr === NR) {
          dst[d] = b[src]!;
          dst[d + 1] = b[src + 1]!;
          dst[d + 2] = b[src + 2]!;
          dst[d + 3] = b[src + 3]!;
        } else {
          for (let j = 0; j < NR; j++) dst[d + j] = j < nr ? b[src + j]! : 0;
        }
      }
    } else {
      for (let j = 0; j < NR; j++) {
        if (j < nr) {
          const src = bOff + (jc + jr + j) * ldb + pc;
          for (let p = 0; p < kc; p++) dst[base + p * NR + j] = b[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) dst[base + p * NR + j] = 0;
        }
      }
    }
  }
}

/** out[4×4] = Σ_p A-panel[p, 0:4]ᵀ · B-panel[p, 0:4] over kc steps, accumulators in locals. */
function kernel4x4(kc: number, pa: Float64Array, ia: number, pb: Float64Array, ib: number, out: Float64Array): void {
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0,
    c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0,
    c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = pa[ia]!,
      a1 = pa[ia + 1]!,
      a2 = pa[ia + 2]!,
      a3 = pa[ia + 3]!;
    let bv = pb[ib]!;
    c00 += a0 * bv;
    c10 += a1 * bv;
    c20 += a2 * bv;
    c30 += a3 * bv;
    bv = pb[ib + 1]!;
    c01 += a0 * bv;
    c11 += a1 * bv;
    c21 += a2 * bv;
    c31 += a3 * bv;
    bv = pb[ib + 2]!;
    c02 += a0 * bv;
    c12 += a1 * bv;
    c22 += a2 * bv;
    c32 += a3 * bv;
    bv = pb[ib + 3]!;
    c03 += a0 * bv;
    c13 += a1 * bv;
    c23 += a2 * bv;
    c33 += a3 * bv;
    ia += 4;
    ib += 4;
  }
  out[0] = c00;
  out[1] = c01;
  out[2] = c02;
  out[3] = c03;
  out[4] = c10;
  out[5] = c11;
  out[6] = c12;
  out[7] = c13;
  out[8] = c20;
  out[9] = c21;
  out[10] = c22;
  out[11] = c23;
  out[12] = c30;
  out[13] = c31;
  out[14] = c32;
  out[15] = c33;
}

/** C[0:mr, 0:nr] += alpha · tile (the tile is MR×NR, row-major). */
function storeTile(t: Float64Array, mr: number, nr: number, alpha: number, c: FloatArray, at: number, ldc: number): void {
  if (mr === MR && nr === NR) {
    for (let r = 0; r < MR; r++) {
      const row = at + r * ldc;
      const tr = r * NR;
      c[row]! += alpha * t[tr]!;
      c[row + 1]! += alpha * t[tr + 1]!;
      c[row + 2]! += alpha * t[tr + 2]!;
      c[row + 3]! += alpha * t[tr + 3]!;
    }
    return;
  }
  for (let r = 0; r < mr; r++) {
    const row = at + r * ldc;
    for (let j = 0; j < nr; j++) c[row + j]! += alpha * t[r * NR + j]!;
  }
}

/**
 * c[0, 0:n] += alpha · x · op(B) with x a row of k elements at a[aOff + p·aStride].
 * Transposed B ([n, k] rows) is a set of dot products, four rows at a time; plain B ([k, n])
 * accumulates scaled rows of B into a float64 scratch row.
 */
function rowTimesMatrix(
  transB: boolean,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  aOff: number,
  aStride: number,
  b: FloatArray,
  bOff: number,
  ldb: number,
  c: FloatArray,
  cOff: number,
): void {
  if (rowScratch.length < Math.max(n, k)) rowScratch = new Float64Array(Math.max(n, k));
  const x = rowScratch;
  if (transB) {
    for (let p = 0; p < k; p++) x[p] = a[aOff + p * aStride]!;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const r0 = bOff + j * ldb,
        r1 = r0 + ldb,
        r2 = r1 + ldb,
        r3 = r2 + ldb;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let p = 0; p < k; p++) {
        const xv = x[p]!;
        s0 += xv * b[r0 + p]!;
        s1 += xv * b[r1 + p]!;
        s2 += xv * b[r2 + p]!;
        s3 += xv * b[r3 + p]!;
      }
      c[cOff + j]! += alpha * s0;
      c[cOff + j + 1]! += alpha * s1;
      c[cOff + j + 2]! += alpha * s2;
      c[cOff + j + 3]! += alpha * s3;
    }
    for (; j < n; j++) {
      const r0 = bOff + j * ldb;
      let s0 = 0;
      for (let p = 0; p < k; p++) s0 += x[p]! * b[r0 + p]!;
      c[cOff + j]! += alpha * s0;
    }
    return;
  }
  x.fill(0, 0, n);
  for (let p = 0; p < k; p++) {
    const av = a[aOff + p * aStride]!;
    const row = bOff + p * ldb;
    for (let j = 0; j < n; j++) x[j]! += av * b[row + j]!;
  }
  for (let j = 0; j < n; j++) c[cOff + j]! += alpha * x[j]!;
}
