// The reference backend: plain TypeScript kernels over typed arrays, the source of truth for
// correctness (PyTorch semantics) that every other backend is tested against. This class only
// checks storages (owner, dtype, size) and wires the per-family kernels together.
import type {
  AdaptivePoolGeometry,
  Backend,
  BinaryOp,
  ConvGeometry,
  DType,
  FloatArray,
  LinearGeometry,
  LrnParams,
  PoolGeometry,
  ScalarOp,
  SgdParams,
  Shape,
  Storage,
  UnaryOp,
  Workspace,
} from '../backend.js';
import { shapeText } from '../../shape.js';
import { RefStorage, RefWorkspace, REFERENCE, allocate, asRefWorkspace, numel, refData, sameDtype } from './storage.js';
import { addBiasKernel, axpyKernel, binaryKernel, reluBackwardKernel, reluInto, scalarKernel, unaryKernel } from './elementwise.js';
import { sumKernel } from './reduce.js';
import { conv2dBackwardData, conv2dBackwardWeights, conv2dForward } from './conv.js';
import { adaptiveAvgPoolBackward, adaptiveAvgPoolForward, maxPoolBackward, maxPoolForward } from './pool.js';
import { lrnBackward, lrnForward, lrnScale } from './lrn.js';
import { linearBackwardData, linearBackwardWeights, linearForward } from './linear.js';
import { dropoutKernel } from './dropout.js';
import { logSoftmaxBackwardKernel, logSoftmaxKernel, softmaxCrossEntropyBackwardKernel, softmaxCrossEntropyKernel } from './loss.js';
import { sgdKernel } from './sgd.js';
import { ShapeError } from '../../errors.js';

export { RefStorage, RefWorkspace } from './storage.js';

function wrap(data: FloatArray): RefStorage {
  return new RefStorage(data);
}

export class ReferenceBackend implements Backend {
  readonly name = REFERENCE;
  readonly precision = 'f32' as const;

  /** The reference kernels run on the calling thread: `fn` runs now. */
  runAsync<T>(fn: () => T): Promise<T> {
    return new Promise((resolve) => resolve(fn()));
  }

  // ---- memory -------------------------------------------------------------------------
  fromArray(data: FloatArray, shape: Shape): Storage {
    const size = numel(shape);
    if (data.length !== size)
      throw new ShapeError(`fromArray: ${data.length} values do not fill shape ${shapeText(shape)} (${size} elements)`);
    return wrap(data.slice());
  }

  toArray(s: Storage, shape: Shape): FloatArray {
    return refData(s, `tensor of shape ${shapeText(shape)}`, numel(shape)).slice();
  }

  full(shape: Shape, value: number, dtype: DType): Storage {
    const data = allocate(dtype, numel(shape));
    if (value !== 0) data.fill(value);
    return wrap(data);
  }

  clone(s: Storage, shape: Shape): Storage {
    return wrap(refData(s, `clone input ${shapeText(shape)}`, numel(shape)).slice());
  }

  write(s: Storage, offset: number, values: Float32Array, shape: Shape): void {
    const data = refData(s, `write target ${shapeText(shape)}`, numel(shape));
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + values.length > data.length)
      throw new ShapeError(
        `write: ${values.length} values at offset ${offset} do not fit in ${shapeText(shape)} (${data.length} elements)`,
      );
    data.set(values, offset);
  }

  readInto(s: Storage, shape: Shape, dst: Float32Array, offset: number): void {
    const data = refData(s, `readInto source ${shapeText(shape)}`, numel(shape));
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + data.length > dst.length)
      throw new ShapeError(
        `readInto: ${shapeText(shape)} (${data.length} elements) at offset ${offset} does not fit in ${dst.length} elements`,
      );
    dst.set(data, offset);
  }

  reshape(s: Storage, from: Shape, to: Shape): Storage {
    const data = refData(s, `reshape input ${shapeText(from)}`, numel(from));
    if (numel(to) !== data.length) throw new ShapeError(`reshape: cannot view ${shapeText(from)} as ${shapeText(to)}`);
    return wrap(data);
  }

  dispose(s: Storage | Workspace): void {
    // The garbage collector owns reference memory; only check that it is ours.
    if (s.backend !== REFERENCE) throw new Error(`dispose: storage belongs to the '${s.backend}' backend`);
  }

  // ---- elementwise and reductions ------------------------------------------------------
  unary(op: UnaryOp, x: Storage, shape: Shape): Storage {
    return wrap(unaryKernel(op, refData(x, `${op} input ${shapeText(shape)}`, numel(shape))));
  }

  binary(op: BinaryOp, a: Storage, b: Storage, shape: Shape): Storage {
    const size = numel(shape);
    const ad = refData(a, `${op} left operand ${shapeText(shape)}`, size);
    const bd = refData(b, `${op} right operand ${shapeText(shape)}`, size);
    sameDtype(op, ad, bd);
    return wrap(binaryKernel(op, ad, bd));
  }

  scalar(op: ScalarOp, x: Storage, value: number, shape: Shape): Storage {
    return wrap(scalarKernel(op, refData(x, `${op} input ${shapeText(shape)}`, numel(shape)), value));
  }

  axpyInPlace(dst: Storage, src: Storage, alpha: number, shape: Shape): void {
    const size = numel(shape);
    const d = refData(dst, `axpy destination ${shapeText(shape)}`, size);
    const s = refData(src, `axpy source ${shapeText(shape)}`, size);
    sameDtype('axpyInPlace', d, s);
    axpyKernel(d, s, alpha);
  }

  sum(x: Storage, shape: Shape, axis: number | null): Storage {
    return wrap(sumKernel(refData(x, `sum input ${shapeText(shape)}`, numel(shape)), shape, axis));
  }

  addBias(x: Storage, b: Storage, shape: Shape): Storage {
    const [n, c] = shape;
    if (n === undefined || c === undefined) throw new ShapeError(`addBias: expected [N, C, ...], got ${shapeText(shape)}`);
    const xd = refData(x, `addBias input ${shapeText(shape)}`, numel(shape));
    const bd = refData(b, `addBias bias [${c}]`, c);
    sameDtype('addBias', xd, bd);
    return wrap(addBiasKernel(xd, bd, n, c, numel(shape.slice(2))));
  }

  // ---- activations ---------------------------------------------------------------------
  relu(x: Storage, shape: Shape): Storage {
    const xd = refData(x, `relu input ${shapeText(shape)}`, numel(shape));
    const y = xd instanceof Float64Array ? new Float64Array(xd.length) : new Float32Array(xd.length);
    reluInto(xd, y);
    return wrap(y);
  }

  reluBackward(gy: Storage, y: Storage, shape: Shape): Storage {
    const size = numel(shape);
    const g = refData(gy, `relu output gradient ${shapeText(shape)}`, size);
    const yd = refData(y, `relu output ${shapeText(shape)}`, size);
    return wrap(reluBackwardKernel(g, yd));
  }

  // ---- convolution ---------------------------------------------------------------------
  conv2d(x: Storage, w: Storage, b: Storage | null, g: ConvGeometry, relu: boolean): Storage {
    const xd = refData(x, 'conv2d input', g.n * g.c * g.h * g.w);
    const wd = refData(w, 'conv2d weight', convWeightSize(g));
    const bd = b === null ? null : refData(b, 'conv2d bias', g.oc);
    sameDtype('conv2d', xd, wd, ...(bd ? [bd] : []));
    return wrap(conv2dForward(xd, wd, bd, g, relu));
  }

  conv2dBackwardData(gy: Storage, w: Storage, g: ConvGeometry): Storage {
    const gyd = refData(gy, 'conv2d output gradient', g.n * g.oc * g.oh * g.ow);
    const wd = refData(w, 'conv2d weight', convWeightSize(g));
    sameDtype('conv2dBackwardData', gyd, wd);
    return wrap(conv2dBackwardData(gyd, wd, g));
  }

  conv2dBackwardWeights(gy: Storage, x: Storage, g: ConvGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    const gyd = refData(gy, 'conv2d output gradient', g.n * g.oc * g.oh * g.ow);
    const xd = refData(x, 'conv2d input', g.n * g.c * g.h * g.w);
    sameDtype('conv2dBackwardWeights', gyd, xd);
    const { gw, gb } = conv2dBackwardWeights(gyd, xd, g, withBias);
    return { gw: wrap(gw), gb: gb === null ? null : wrap(gb) };
  }

  // ---- pooling -------------------------------------------------------------------------
  maxPool2d(x: Storage, g: PoolGeometry, training: boolean): { y: Storage; workspace: Workspace | null } {
    const xd = refData(x, 'max_pool2d input', g.n * g.c * g.h * g.w);
    const { y, argmax } = maxPoolForward(xd, g);
    return { y: wrap(y), workspace: training ? new RefWorkspace('maxpool', argmax, null) : null };
  }

  maxPool2dBackward(gy: Storage, x: Storage, workspace: Workspace | null, g: PoolGeometry): Storage {
    const gyd = refData(gy, 'max_pool2d output gradient', g.n * g.c * g.oh * g.ow);
    let argmax: Int32Array;
    if (workspace === null) {
      argmax = maxPoolForward(refData(x, 'max_pool2d input', g.n * g.c * g.h * g.w), g).argmax;
    } else {
      const indices = asRefWorkspace(workspace, 'maxpool').indices;
      if (indices === null || indices.length !== gyd.length)
        throw new Error('max_pool2d backward: workspace does not match the pooling geometry');
      argmax = indices;
    }
    return wrap(maxPoolBackward(gyd, argmax, g));
  }

  adaptiveAvgPool2d(x: Storage, g: AdaptivePoolGeometry): Storage {
    return wrap(adaptiveAvgPoolForward(refData(x, 'adaptive_avg_pool2d input', g.n * g.c * g.h * g.w), g));
  }

  adaptiveAvgPool2dBackward(gy: Storage, g: AdaptivePoolGeometry): Storage {
    return wrap(adaptiveAvgPoolBackward(refData(gy, 'adaptive_avg_pool2d output gradient', g.n * g.c * g.oh * g.ow), g));
  }

  // ---- local response normalisation ------------------------------------------------------
  lrn(x: Storage, shape: Shape, p: LrnParams, training: boolean): { y: Storage; workspace: Workspace | null } {
    const xd = refData(x, `local_response_norm input ${shapeText(shape)}`, numel(shape));
    const { y, scale } = lrnForward(xd, shape, p);
    return { y: wrap(y), workspace: training ? new RefWorkspace('lrn', null, scale) : null };
  }

  lrnBackward(gy: Storage, x: Storage, y: Storage, workspace: Workspace | null, shape: Shape, p: LrnParams): Storage {
    const size = numel(shape);
    const gyd = refData(gy, `local_response_norm output gradient ${shapeText(shape)}`, size);
    const xd = refData(x, `local_response_norm input ${shapeText(shape)}`, size);
    const yd = refData(y, `local_response_norm output ${shapeText(shape)}`, size);
    sameDtype('lrnBackward', gyd, xd, yd);
    let scale: FloatArray;
    if (workspace === null) {
      scale = lrnScale(xd, shape, p);
    } else {
      const saved = asRefWorkspace(workspace, 'lrn').values;
      if (saved === null || saved.length !== size)
        throw new Error('local_response_norm backward: workspace does not match the input shape');
      scale = saved;
    }
    return wrap(lrnBackward(gyd, xd, yd, scale, shape, p));
  }

  // ---- fully connected -------------------------------------------------------------------
  linear(x: Storage, w: Storage, b: Storage | null, g: LinearGeometry, relu: boolean): Storage {
    const xd = refData(x, `linear input [${g.m}, ${g.k}]`, g.m * g.k);
    const wd = refData(w, `linear weight [${g.n}, ${g.k}]`, g.n * g.k);
    const bd = b === null ? null : refData(b, `linear bias [${g.n}]`, g.n);
    sameDtype('linear', xd, wd, ...(bd ? [bd] : []));
    return wrap(linearForward(xd, wd, bd, g, relu));
  }

  linearBackwardData(gy: Storage, w: Storage, g: LinearGeometry): Storage {
    const gyd = refData(gy, `linear output gradient [${g.m}, ${g.n}]`, g.m * g.n);
    const wd = refData(w, `linear weight [${g.n}, ${g.k}]`, g.n * g.k);
    sameDtype('linearBackwardData', gyd, wd);
    return wrap(linearBackwardData(gyd, wd, g));
  }

  linearBackwardWeights(gy: Storage, x: Storage, g: LinearGeometry, withBias: boolean): { gw: Storage; gb: Storage | null } {
    const gyd = refData(gy, `linear output gradient [${g.m}, ${g.n}]`, g.m * g.n);
    const xd = refData(x, `linear input [${g.m}, ${g.k}]`, g.m * g.k);
    sameDtype('linearBackwardWeights', gyd, xd);
    const { gw, gb } = linearBackwardWeights(gyd, xd, g, withBias);
    return { gw: wrap(gw), gb: gb === null ? null : wrap(gb) };
  }

  // ---- regularisation ----------------------------------------------------------------------
  dropout(x: Storage, shape: Shape, p: number, seed: number): { y: Storage; mask: Storage } {
    const { y, mask } = dropoutKernel(refData(x, `dropout input ${shapeText(shape)}`, numel(shape)), p, seed);
    return { y: wrap(y), mask: wrap(mask) };
  }

  // ---- losses --------------------------------------------------------------------------------
  logSoftmax(x: Storage, n: number, c: number): Storage {
    return wrap(logSoftmaxKernel(refData(x, `log_softmax input [${n}, ${c}]`, n * c), n, c));
  }

  logSoftmaxBackward(gy: Storage, y: Storage, n: number, c: number): Storage {
    const gyd = refData(gy, `log_softmax output gradient [${n}, ${c}]`, n * c);
    const yd = refData(y, `log_softmax output [${n}, ${c}]`, n * c);
    return wrap(logSoftmaxBackwardKernel(gyd, yd, n, c));
  }

  softmaxCrossEntropy(logits: Storage, labels: Int32Array, n: number, c: number): { loss: number; probs: Storage } {
    const { loss, probs } = softmaxCrossEntropyKernel(refData(logits, `cross_entropy logits [${n}, ${c}]`, n * c), labels, n, c);
    return { loss, probs: wrap(probs) };
  }

  softmaxCrossEntropyBackward(probs: Storage, labels: Int32Array, n: number, c: number, scale: number): Storage {
    return wrap(softmaxCrossEntropyBackwardKernel(refData(probs, `cross_entropy probabilities [${n}, ${c}]`, n * c), labels, n, c, scale));
  }

  // ---- optimiser -----------------------------------------------------------------------------
  sgdStep(param: Storage, grad: Storage, momentumBuffer: Storage | null, size: number, p: SgdParams, firstStep: boolean): void {
    const pd = refData(param, 'sgd parameter', size);
    const gd = refData(grad, 'sgd gradient', size);
    const bd = momentumBuffer === null ? null : refData(momentumBuffer, 'sgd momentum buffer', size);
    sameDtype('sgdStep', pd, gd, ...(bd ? [bd] : []));
    sgdKernel(pd, gd, bd, p, firstStep);
  }
}

function convWeightSize(g: ConvGeometry): number {
  return g.oc * (g.c / g.groups) * g.kh * g.kw;
}
