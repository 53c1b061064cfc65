// Builders for the ONNX messages export needs (field numbers from onnx/onnx.proto, IR v7):
// ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto (float32 raw_data),
// ValueInfoProto with a float tensor type whose dims are numbers or named (dynamic) params.
import { Message } from './protobuf.js';

export const IR_VERSION = 7; // ONNX 1.8+, matches opset 13
const TENSOR_FLOAT = 1;

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

export type AttrValue = { float: number } | { int: number } | { ints: readonly number[] };

export function attribute(name: string, value: AttrValue): Message {
  const a = new Message().string(1, name);
  if ('float' in value) a.float(2, value.float).int(20, ATTR_FLOAT);
  else if ('int' in value) a.int(3, value.int).int(20, ATTR_INT);
  else a.packedInts(8, value.ints).int(20, ATTR_INTS);
  return a;
}

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  name: string,
  attrs: Record<string, AttrValue> = {},
): Message {
  const n = new Message();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name).string(4, opType);
  for (const [k, v] of Object.entries(attrs)) n.message(5, attribute(k, v));
  return n;
}

/** A float32 initializer with its values as little-endian raw_data. */
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): Message {
  return new Message()
    .packedInts(1, dims)
    .int(2, TENSOR_FLOAT)
    .string(8, name)
    .bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** A float tensor value: dims are sizes or names of dynamic dimensions. */
export function valueInfo(name: string, dims: readonly (number | string)[]): Message {
  const shape = new Message();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new Message().int(1, d) : new Message().string(2, d));
  const tensorType = new Message().int(1, TENSOR_FLOAT).message(2, shape);
  return new Message().string(1, name).message(2, new Message().message(1, tensorType));
}

export function graph(
  name: string,
  nodes: readonly Message[],
  initializers: readonly Message[],
  inputs: readonly Message[],
  outputs: readonly Message[],
): Message {
  const g = new Message();
  for (const n of nodes) g.message(1, n);
  g.string(2, name);
  for (const t of initializers) g.message(5, t);
  for (const i of inputs) g.message(11, i);
  for (const o of outputs) g.message(12, o);
  return g;
}

export function model(g: Message, opset: number, producer: { name: string; version: string }, docString: string): Message {
  return new Message()
    .int(1, IR_VERSION)
    .string(2, producer.name)
    .string(3, producer.version)
    .string(6, docString)
    .message(7, g)
    .message(8, new Message().string(1, '').int(2, opset));
}
