// Geometry checks shared by the backends whose kernels index their tensors' memory directly
// (wasm: its shared heap; webgpu: storage buffers), run before any kernel: a geometry that does
// not describe its tensors (a field that is not a small non-negative integer, an output size that
// does not follow from the input, groups that do not divide the channels, a tensor too large for
// 32-bit indexing) would read or write other tensors' memory. Each is a ShapeError naming the
// geometry, and the backend whose limit a size exceeds. geometryChecks(backend, maxElements)
// makes one backend's set.
import type { AdaptivePoolGeometry, ConvGeometry, LinearGeometry, LrnParams, PoolGeometry } from './backend.js';
import { convOutSize, poolOutSize } from './conv_util.js';
import { ShapeError } from '../errors.js';

function fields(what: string, g: object, names: readonly string[], min: (name: string) => number): number[] {
  const rec = g as Record<string, unknown>;
  return names.map((k) => {
    const v = rec[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min(k) || v >= 2 ** 31)
      throw new ShapeError(`${what}: geometry field ${k} = ${String(v)} is not an integer in [${min(k)}, 2^31)`);
    return v;
  });
}

const CONV = ['n', 'c', 'h', 'w', 'oc', 'kh', 'kw', 'oh', 'ow', 'strideH', 'strideW', 'padH', 'padW', 'groups'] as const;
const POOL = ['n', 'c', 'h', 'w', 'kh', 'kw', 'oh', 'ow', 'strideH', 'strideW', 'padH', 'padW', 'padBottom', 'padRight'] as const;
const ADAPTIVE = ['n', 'c', 'h', 'w', 'oh', 'ow'] as const;

/** A backend's checks; the numbers returned are the geometry's fields in the C interface's order. */
export interface GeometryChecks {
  checkConv(g: ConvGeometry): number[];
  checkPool(g: PoolGeometry): number[];
  checkAdaptive(g: AdaptivePoolGeometry): number[];
  checkLinear(g: LinearGeometry): void;
  checkLrn(p: LrnParams): void;
  /** Rows and classes of a [n, c] op. */
  checkRows(what: string, n: number, c: number): void;
}

/** One backend's geometry checks: sizes past `maxElements` are refused naming `backend`. */
export function geometryChecks(backend: string, maxElements: number): GeometryChecks {
  function bounded(what: string, ...counts: [string, number][]): void {
    for (const [name, n] of counts)
      if (n > maxElements)
        throw new ShapeError(`${what}: ${name} would hold ${n} elements, more than the ${backend} backend's ${maxElements}`);
  }

  /** The 14 fields in the C interface's order, after checking them. */
  function checkConv(g: ConvGeometry): number[] {
    const v = fields('conv2d', g, CONV, (k) => (k === 'padH' || k === 'padW' || k === 'n' ? 0 : 1));
    const { n, c, h, w, oc, kh, kw, oh, ow, strideH, strideW, padH, padW, groups } = g;
    if (c % groups !== 0 || oc % groups !== 0) throw new ShapeError(`conv2d: groups=${groups} must divide channels ${c} and ${oc}`);
    if (oh !== convOutSize(h, kh, strideH, padH) || ow !== convOutSize(w, kw, strideW, padW))
      throw new ShapeError(
        `conv2d: output ${oh}x${ow} does not follow from input ${h}x${w}, kernel ${kh}x${kw}, stride ${strideH},${strideW}, padding ${padH},${padW}`,
      );
    bounded('conv2d', ['input', n * c * h * w], ['output', n * oc * oh * ow], ['weight', oc * (c / groups) * kh * kw]);
    return v;
  }

  function checkPool(g: PoolGeometry): number[] {
    const v = fields('max_pool2d', g, POOL, (k) => (k.startsWith('pad') || k === 'n' ? 0 : 1));
    const ok = (o: number, size: number, k: number, s: number, p: number) =>
      o === poolOutSize(size, k, s, p, false) || o === poolOutSize(size, k, s, p, true);
    if (!ok(g.oh, g.h, g.kh, g.strideH, g.padH) || !ok(g.ow, g.w, g.kw, g.strideW, g.padW) || g.oh < 1 || g.ow < 1)
      throw new ShapeError(`max_pool2d: output ${g.oh}x${g.ow} does not follow from input ${g.h}x${g.w}, kernel ${g.kh}x${g.kw}`);
    if (2 * g.padH > g.kh || 2 * g.padW > g.kw) throw new ShapeError(`max_pool2d: padding ${g.padH},${g.padW} exceeds half the kernel`);
    bounded('max_pool2d', ['input', g.n * g.c * g.h * g.w], ['output', g.n * g.c * g.oh * g.ow]);
    return v;
  }

  function checkAdaptive(g: AdaptivePoolGeometry): number[] {
    const v = fields('adaptive_avg_pool2d', g, ADAPTIVE, (k) => (k === 'n' ? 0 : 1));
    bounded('adaptive_avg_pool2d', ['input', g.n * g.c * g.h * g.w], ['output', g.n * g.c * g.oh * g.ow]);
    return v;
  }

  function checkLinear(g: LinearGeometry): void {
    fields('linear', g, ['m', 'k', 'n'], () => 0);
    bounded('linear', ['input', g.m * g.k], ['weight', g.n * g.k], ['output', g.m * g.n]);
  }

  function checkLrn(p: LrnParams): void {
    if (!Number.isSafeInteger(p.size) || p.size < 1 || p.size >= 2 ** 31)
      throw new ShapeError(`local_response_norm: size must be a positive integer, got ${p.size}`);
  }

  /** Rows and classes of a [n, c] op. */
  function checkRows(what: string, n: number, c: number): void {
    fields(what, { n, c }, ['n', 'c'], () => 0);
    bounded(what, ['input', n * c]);
  }

  return { checkConv, checkPool, checkAdaptive, checkLinear, checkLrn, checkRows };
}
