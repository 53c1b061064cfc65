// Linear layer: y = x·Wᵀ + b with weight [out, in], bias [out]; PyTorch's default init.
import type { Shape } from '../backend/backend.js';
import { linear } from '../ops/linear.js';
import { ShapeError } from '../errors.js';
import type { Generator } from '../random.js';
import { shapeText, Tensor } from '../tensor.js';
import { pytorchDefaultInit } from './init.js';
import { Module } from './module.js';

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; rng?: Generator } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', Tensor.zeros([outFeatures, inFeatures]))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : Tensor.zeros([outFeatures]));
    pytorchDefaultInit(this.weight, this.bias, inFeatures, opts.rng);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }

  forward(x: Tensor): Tensor {
    return this.forwardFused(x, false);
  }

  /** Linear with the following ReLU fused in (Sequential uses this for Linear → ReLU). */
  forwardFused(x: Tensor, relu: boolean): Tensor {
    return linear(x, this.weight, this.bias, { relu });
  }

  outputShape(input: Shape): Shape {
    const features = input.at(-1);
    if (features !== this.inFeatures) {
      throw new ShapeError(`Linear: input ${shapeText(input)} has ${features} features, expected ${this.inFeatures}`);
    }
    return [...input.slice(0, -1), this.outFeatures];
  }

  macs(): number {
    return this.inFeatures * this.outFeatures;
  }
}
