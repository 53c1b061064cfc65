// ONNX export of a quantized model in the QDQ form (opset 13) that ONNX Runtime and TensorRT fuse
// into integer kernels: the input goes through QuantizeLinear/DequantizeLinear (s8, its scale);
// each weight layer's s8 weights are an INT8 initializer dequantized per output channel (axis 0),
// its f32 bias kept, ReLU after it, and its output re-quantized (u8 after a ReLU, else s8; zero
// point 0) with the file's output scale; max pools and Flatten act on the dequantized values
// (exact: they commute with the monotone quantization). alexnet-2012's LRN follows the ReLU in
// f32 before the output's QDQ, as in the int8 engines; a resizing adaptive average pool is an
// AveragePool (when the sizes divide) followed by a QDQ at the same scale (the engines round the
// mean). The arithmetic is the int8 network's
// (int8_spec.ts), up to the rounding of x / scale against x · (1 / scale): ±1 LSB.
import { floatTensor, graph, model as modelProto, node, valueInfo, type AttrValue } from '../io/onnx/onnx_proto.js';
import { Message } from '../io/onnx/protobuf.js';
import type { AlexNet } from '../models/index.js';
import { UsageError } from '../errors.js';
import { Linear } from '../nn/linear.js';
import type { AdaptiveAvgPool2d } from '../nn/pool.js';
import { planOf } from './plan.js';
import type { QuantizedModel } from './quantize.js';

const OPSET = 13;
const TENSOR_UINT8 = 2;
const TENSOR_INT8 = 3;

/** An integer initializer (INT8 or UINT8) with raw little-endian data. */
function intTensor(name: string, dims: readonly number[], type: number, data: Int8Array | Uint8Array): Message {
  return new Message()
    .packedInts(1, dims)
    .int(2, type)
    .string(8, name)
    .bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * ONNX for an adaptive average pool that resizes: AveragePool where the sizes divide (as the f32
 * export), else a UsageError (ONNX has no adaptive pooling with uneven windows).
 */
function adaptivePool(
  pool: AdaptiveAvgPool2d,
  shape: readonly number[],
  x: string,
  add: (op: string, inputs: string[], label: string, attrs?: Record<string, AttrValue>) => string,
): string {
  const [, , ih = 0, iw = 0] = shape;
  const [oh, ow] = pool.outputSize;
  if (ih % oh !== 0 || iw % ow !== 0)
    throw new UsageError(
      `QDQ ONNX export: the adaptive average pool from ${ih}×${iw} to ${oh}×${ow} has uneven windows; export a model whose feature map is a multiple of ${oh}×${ow}`,
    );
  const k = [ih / oh, iw / ow];
  return add('AveragePool', [x], 'avgpool', { kernel_shape: { ints: k }, strides: { ints: k } });
}

/** The QDQ ONNX model of `q`, its layer structure from `structure` (an AlexNet of its architecture and sizes). */
export function exportQdqOnnx(q: QuantizedModel, structure: AlexNet): Uint8Array[] {
  const nodes: Message[] = [];
  const inits: Message[] = [];
  let count = 0;
  const add = (op: string, inputs: string[], label: string, attrs: Record<string, AttrValue> = {}): string => {
    const y = `${label}_${count++}`;
    nodes.push(node(op, inputs, [y], y, attrs));
    return y;
  };
  /** Quantize then dequantize `x` with a per-tensor scale (zero point 0 of the given type). */
  const qdq = (x: string, name: string, scale: number, unsigned: boolean): string => {
    inits.push(floatTensor(`${name}.scale`, [], Float32Array.of(scale)));
    inits.push(intTensor(`${name}.zero_point`, [], unsigned ? TENSOR_UINT8 : TENSOR_INT8, unsigned ? new Uint8Array(1) : new Int8Array(1)));
    const quantized = add('QuantizeLinear', [x, `${name}.scale`, `${name}.zero_point`], `${name}.quantize`);
    return add('DequantizeLinear', [quantized, `${name}.scale`, `${name}.zero_point`], `${name}.dequantize`);
  };
  let current = qdq('input', 'input', q.inputScale, false);
  // The scale and signedness of the current (quantized) activation.
  let scale = q.inputScale;
  let unsigned = false;
  let flattened = false;
  let shape: readonly number[] = [1, ...structure.inputShape];
  for (const s of planOf(structure)) {
    if (s.kind === 'avgpool') {
      current = adaptivePool(s.layer, shape, current, add);
      shape = s.layer.outputShape(shape);
      // The int8 engines round the mean to the same scale: one more QDQ models that.
      current = qdq(current, `avgpool_${count}`, scale, unsigned);
      continue;
    }
    shape = s.kind === 'weight' && s.layer instanceof Linear ? [1, s.layer.outFeatures] : s.layer.outputShape(shape);
    if (s.kind === 'maxpool') {
      const l = s.layer;
      current = add('MaxPool', [current], 'maxpool', {
        kernel_shape: { ints: l.kernelSize },
        strides: { ints: l.stride },
        pads: { ints: [0, 0, 0, 0] },
      });
      continue;
    }
    const ql = q.layers.get(s.name);
    if (!ql) throw new Error(`exportQdqOnnx: no quantized layer '${s.name}'`);
    const oc = ql.shape[0] ?? 1;
    inits.push(intTensor(`${s.name}.weight_quantized`, ql.shape, TENSOR_INT8, ql.weight));
    inits.push(floatTensor(`${s.name}.weight_scale`, [oc], ql.weightScales));
    inits.push(intTensor(`${s.name}.weight_zero_point`, [oc], TENSOR_INT8, new Int8Array(oc)));
    inits.push(floatTensor(`${s.name}.bias`, [oc], ql.bias));
    const w = add(
      'DequantizeLinear',
      [`${s.name}.weight_quantized`, `${s.name}.weight_scale`, `${s.name}.weight_zero_point`],
      `${s.name}.weight`,
      {
        axis: { int: 0 },
      },
    );
    if (s.layer instanceof Linear) {
      if (!flattened) current = add('Flatten', [current], 'flatten', { axis: { int: 1 } });
      flattened = true;
      current = add('Gemm', [current, w, `${s.name}.bias`], `${s.name}.gemm`, { transB: { int: 1 } });
    } else {
      const l = s.layer;
      const [ph, pw] = l.padding;
      current = add('Conv', [current, w, `${s.name}.bias`], `${s.name}.conv`, {
        kernel_shape: { ints: l.kernelSize },
        strides: { ints: l.stride },
        pads: { ints: [ph, pw, ph, pw] },
        group: { int: l.groups },
      });
    }
    if (s.relu) current = add('Relu', [current], `${s.name}.relu`);
    if (s.lrn) {
      const { size, alpha, beta, k } = s.lrn;
      current = add('LRN', [current], `${s.name}.lrn`, {
        size: { int: size },
        alpha: { float: alpha },
        beta: { float: beta },
        bias: { float: k },
      });
    }
    if (ql.outputScale !== null) current = qdq(current, `${s.name}.output`, ql.outputScale, s.relu);
    [scale, unsigned] = [ql.outputScale ?? 1, s.relu];
  }
  // The last node writes the graph output.
  const out = 'output';
  nodes.push(node('Identity', [current], [out], 'output'));
  const [c, h, w] = structure.inputShape;
  const g = graph(`${q.arch}-int8`, nodes, inits, [valueInfo('input', ['batch', c, h, w])], [valueInfo(out, ['batch', q.numClasses])]);
  return modelProto(
    g,
    OPSET,
    { name: 'alexnet-ts', version: '0.1.0' },
    `${q.arch} quantized by alexnet (${q.calibrator}, ${q.calibrationImages} images), QDQ form`,
  ).toChunks();
}
