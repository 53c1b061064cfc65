// ONNX export of the AlexNets (opset 13, batch dimension dynamic and named "batch"). The model
// is walked through stages() — leaf modules in forward order, 'flatten' where forward flattens —
// and each maps to ONNX operators: Conv (with group), Relu, MaxPool (explicit pads; PyTorch's
// ceil-mode rule becomes extra bottom/right padding, which never wins a max), LRN (ONNX, like
// PyTorch, divides alpha by size and centres the window the same way for odd sizes), the
// adaptive average pool as nothing (identity when the input already has the output size),
// AveragePool (when the sizes divide) or GlobalAveragePool, Flatten(axis 1), Gemm (transB = 1).
// Dropout is omitted (inference graph). Initializer names are the PyTorch state-dict keys.
import type { Shape } from '../../backend/backend.js';
import { poolGeometry } from '../../backend/conv_util.js';
import { UsageError } from '../../errors.js';
import type { AlexNet } from '../../models/alexnet_base.js';
import { ReLU } from '../../nn/activation.js';
import { Conv2d } from '../../nn/conv.js';
import { Dropout } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import { LocalResponseNorm } from '../../nn/lrn.js';
import type { Module } from '../../nn/module.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../../nn/pool.js';
import { writeFileAtomic } from '../write_atomic.js';
import { floatTensor, graph, model as modelProto, node, valueInfo, type AttrValue } from './onnx_proto.js';

export const ONNX_OPSET = 13;

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, AttrValue>;
}

function spec(op: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, AttrValue> = {}): NodeSpec {
  return { op, inputs, outputs, name, attrs };
}

function floatData(t: { toArray(): Float32Array | Float64Array }): Float32Array {
  const a = t.toArray();
  return a instanceof Float32Array ? a : Float32Array.from(a);
}

/** Builds the ONNX ModelProto for `net` and returns its bytes as chunks. */
export function exportOnnx(net: AlexNet): Uint8Array[] {
  const names = new Map<Module, string>();
  for (const [name, m] of net.namedModules()) names.set(m, name);
  const nodes: NodeSpec[] = [];
  const inits: ReturnType<typeof floatTensor>[] = [];
  const [c, h, w] = net.inputShape;
  let shape: Shape = [1, c, h, w]; // batch 1 stands for the dynamic batch in shape arithmetic
  let current = 'input';
  let count = 0;
  const out = (label: string): string => `${label}_${count++}`;

  for (const stage of net.stages()) {
    if (stage === 'flatten') {
      const y = out('flatten');
      nodes.push(spec('Flatten', [current], [y], y, { axis: { int: 1 } }));
      current = y;
      shape = [shape[0]!, shape.slice(1).reduce((a, b) => a * b, 1)];
      continue;
    }
    const name = names.get(stage) ?? stage.typeName;
    const next = stage.outputShape(shape);
    if (stage instanceof Conv2d) {
      const wName = `${name}.weight`;
      inits.push(floatTensor(wName, stage.weight.shape, floatData(stage.weight)));
      const inputs = [current, wName];
      if (stage.bias) {
        inits.push(floatTensor(`${name}.bias`, stage.bias.shape, floatData(stage.bias)));
        inputs.push(`${name}.bias`);
      }
      const y = out(`${name}.conv`);
      const [ph, pw] = stage.padding;
      nodes.push(
        spec('Conv', inputs, [y], y, {
          kernel_shape: { ints: stage.kernelSize },
          strides: { ints: stage.stride },
          pads: { ints: [ph, pw, ph, pw] },
          dilations: { ints: [1, 1] },
          group: { int: stage.groups },
        }),
      );
      current = y;
    } else if (stage instanceof ReLU) {
      const y = out(`${name}.relu`);
      nodes.push(spec('Relu', [current], [y], y));
      current = y;
    } else if (stage instanceof MaxPool2d) {
      const g = poolGeometry(shape, stage.kernelSize, stage.stride, stage.padding, stage.ceilMode);
      const y = out(`${name}.maxpool`);
      nodes.push(
        spec('MaxPool', [current], [y], y, {
          kernel_shape: { ints: stage.kernelSize },
          strides: { ints: stage.stride },
          pads: { ints: [g.padH, g.padW, g.padBottom, g.padRight] },
          ceil_mode: { int: 0 },
        }),
      );
      current = y;
    } else if (stage instanceof LocalResponseNorm) {
      if (stage.size % 2 === 0)
        throw new UsageError(
          `ONNX export: LocalResponseNorm size ${stage.size} is even; ONNX LRN centres even windows differently from PyTorch`,
        );
      const y = out(`${name}.lrn`);
      nodes.push(
        spec('LRN', [current], [y], y, {
          size: { int: stage.size },
          alpha: { float: stage.alpha },
          beta: { float: stage.beta },
          bias: { float: stage.k },
        }),
      );
      current = y;
    } else if (stage instanceof AdaptiveAvgPool2d) {
      const [, , ih = 0, iw = 0] = shape;
      const [oh, ow] = stage.outputSize;
      if (ih === oh && iw === ow) {
        // Identity: each output pixel averages exactly one input pixel.
      } else if (oh === 1 && ow === 1) {
        const y = out(`${name}.gap`);
        nodes.push(spec('GlobalAveragePool', [current], [y], y));
        current = y;
      } else if (ih % oh === 0 && iw % ow === 0) {
        const k = [ih / oh, iw / ow];
        const y = out(`${name}.avgpool`);
        nodes.push(spec('AveragePool', [current], [y], y, { kernel_shape: { ints: k }, strides: { ints: k } }));
        current = y;
      } else {
        throw new UsageError(
          `ONNX export: AdaptiveAvgPool2d from ${ih}×${iw} to ${oh}×${ow} has uneven windows; export a model built for an input size whose feature map is a multiple of ${oh}×${ow}`,
        );
      }
    } else if (stage instanceof Linear) {
      const wName = `${name}.weight`;
      inits.push(floatTensor(wName, stage.weight.shape, floatData(stage.weight)));
      const inputs = [current, wName];
      if (stage.bias) {
        inits.push(floatTensor(`${name}.bias`, stage.bias.shape, floatData(stage.bias)));
        inputs.push(`${name}.bias`);
      }
      const y = out(`${name}.gemm`);
      nodes.push(spec('Gemm', inputs, [y], y, { transB: { int: 1 } }));
      current = y;
    } else if (stage instanceof Dropout) {
      // Inference graph: dropout is the identity.
    } else {
      throw new UsageError(`ONNX export: no mapping for layer ${name} (${stage.typeName})`);
    }
    shape = next;
  }
  // The node computing the final value writes the graph output directly.
  const last = nodes[nodes.length - 1];
  if (!last || last.outputs[0] !== current) throw new UsageError('ONNX export: the model has no layers');
  const outputName = 'output';
  last.outputs = [outputName];
  const g = graph(
    `${net.arch}`,
    nodes.map((n) => node(n.op, n.inputs, n.outputs, n.name, n.attrs)),
    inits,
    [valueInfo('input', ['batch', c, h, w])],
    [valueInfo(outputName, ['batch', shape[1]!])],
  );
  const proto = modelProto(
    g,
    ONNX_OPSET,
    { name: 'alexnet-ts', version: '0.1.0' },
    `${net.arch} exported by alexnet (TypeScript); dropout removed for inference`,
  );
  return proto.toChunks();
}

/** Writes `net` as an ONNX file (atomically). */
export function writeOnnx(path: string, net: AlexNet): void {
  writeFileAtomic(path, exportOnnx(net));
}
