// The shared shape of the three AlexNets: named parts run in order with a flatten between the
// convolutional part and the classifier (done in forward, as torchvision does, so no Flatten
// module appears in the state dict or the summary). Checks the input against what FC6 expects.
import type { Shape } from '../backend/backend.js';
import { Conv2d } from '../nn/conv.js';
import { constant_, normal_, xavierUniform_ } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
import { flatten } from '../ops/shape.js';
import { ShapeError } from '../errors.js';
import type { Generator } from '../random.js';
import { flattenedShape, numel, shapeText } from '../shape.js';
import type { Tensor } from '../tensor.js';

export type ArchName = 'alexnet' | 'alexnet-v1' | 'alexnet-2012';
export type InitScheme = 'pytorch' | 'paper' | 'xavier';

export interface ModelOptions {
  numClasses?: number;
  inChannels?: number;
  /** Dropout probability before/after the hidden FC layers (0.5 by default). */
  dropout?: number;
  /**
   * 'pytorch' (default: kaiming-uniform as nn.Conv2d/nn.Linear do), 'paper' (N(0, 0.01), biases 1
   * in conv2/4/5 and FC6/7), 'xavier' (Xavier-uniform weights, PyTorch's biases: the d2l textbook's)
   * or 'none' (every parameter zero: for a model whose values are all loaded from a file next).
   */
  init?: InitScheme | 'none';
  /** Input height = width. For alexnet-v1/-2012 FC6's width is derived from it (default 227). */
  inputSize?: number;
  rng?: Generator;
}

export type Stage = Module | 'flatten';

export class AlexNet extends Module {
  private readonly parts: [string, Module][];

  /**
   * @param parts named children in forward order; flatten happens before part `flattenAt`.
   * @param inputShape the input [C, H, W] the model is built for.
   */
  constructor(
    readonly arch: ArchName,
    parts: [string, Module][],
    private readonly flattenAt: number,
    readonly inputShape: readonly [number, number, number],
    readonly numClasses: number,
  ) {
    super();
    this.parts = parts;
    for (const [name, m] of parts) this.registerModule(name, m);
  }

  /** The PyTorch class each architecture is (torchvision's AlexNet; AlexNetV1 and AlexNet2012 of scripts/torch_models.py). */
  override get typeName(): string {
    return TYPE_NAMES[this.arch];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x.shape);
    let h = x;
    this.parts.forEach(([, m], i) => {
      if (i === this.flattenAt) h = flatten(h, 1);
      h = m.forward(h);
    });
    return h;
  }

  outputShape(input: Shape): Shape {
    this.checkInput(input);
    let s = input;
    this.parts.forEach(([, m], i) => {
      if (i === this.flattenAt) s = flattenedShape(s);
      s = m.outputShape(s);
    });
    return s;
  }

  /** Leaf modules in forward order, with 'flatten' where forward flattens (summary, ONNX export). */
  stages(): Stage[] {
    const out: Stage[] = [];
    this.parts.forEach(([, m], i) => {
      if (i === this.flattenAt) out.push('flatten');
      if (m instanceof Sequential) out.push(...m.layers);
      else out.push(m);
    });
    return out;
  }

  /**
   * Throws a ShapeError naming the input this model expects when `input` [N, C, H, W] cannot go
   * through. `shown` is the shape the message names as given (summary() shows its user's batch,
   * not the batch of 2 it computes with).
   */
  checkInput(input: Shape, shown: Shape = input): void {
    const [c, h, w] = this.inputShape;
    const expected = `${this.arch} expects input [N, ${c}, ${h}, ${w}]`;
    const got = `got ${shapeText(shown)}`;
    if (input.length !== 4 || input[1] !== c) throw new ShapeError(`${expected}, ${got}`);
    let features: number;
    try {
      features = numel(convolutionalShape(this.parts.slice(0, this.flattenAt), input).slice(1));
    } catch (err) {
      throw new ShapeError(`${expected}, ${got}: ${(err as Error).message}`);
    }
    const fc6 = this.stages().find((m): m is Linear => m instanceof Linear);
    if (fc6 && features !== fc6.inFeatures) {
      throw new ShapeError(
        `${expected} (FC6 takes ${fc6.inFeatures} features), ${got} which gives ${features}; build the model with inputSize: ${input[2]} to size FC6 for it`,
      );
    }
  }
}

const TYPE_NAMES: Record<ArchName, string> = { alexnet: 'AlexNet', 'alexnet-v1': 'AlexNetV1', 'alexnet-2012': 'AlexNet2012' };

/** Output shape of the convolutional part for `input`; what it cannot take is a ShapeError. */
function convolutionalShape(parts: readonly [string, Module][], input: Shape): Shape {
  try {
    return parts.reduce((s, [, m]) => m.outputShape(s), input);
  } catch (err) {
    throw err instanceof ShapeError ? err : new ShapeError((err as Error).message);
  }
}

/** Applies the paper's initialisation: weights N(0, 0.01); biases 1 in conv2, conv4, conv5 and the hidden FC layers, else 0. */
export function paperInit(model: AlexNet, rng?: Generator): void {
  const layers = model.stages().filter((m): m is Conv2d | Linear => m instanceof Conv2d || m instanceof Linear);
  const convs = layers.filter((m) => m instanceof Conv2d);
  const fcs = layers.filter((m) => m instanceof Linear);
  const onesBias = new Set<Module>([...[1, 3, 4].flatMap((i) => convs[i] ?? []), ...fcs.slice(0, -1)]);
  for (const m of layers) {
    normal_(m.weight, 0, 0.01, rng);
    if (m.bias) constant_(m.bias, onesBias.has(m) ? 1 : 0);
  }
}

/** Re-draws every conv and linear weight Xavier-uniform (biases keep PyTorch's default), as d2l's `init_weights` does. */
export function xavierInit(model: AlexNet, rng?: Generator): void {
  for (const m of model.stages()) {
    if (m instanceof Conv2d || m instanceof Linear) xavierUniform_(m.weight, rng);
  }
}

/** Size of the convolutional part's output for a square input (FC6 width = channels·s²); a ShapeError when too small. */
export function featureSize(features: Module, inChannels: number, inputSize: number): number {
  return numel(convolutionalShape([['features', features]], [1, inChannels, inputSize, inputSize]).slice(1));
}
