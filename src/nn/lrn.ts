// LocalResponseNorm layer, PyTorch's semantics (alpha divided by size).
import type { Shape } from '../backend/backend.js';
import { localResponseNorm } from '../ops/lrn.js';
import { pyFloat } from '../summary/format.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class LocalResponseNorm extends Module {
  constructor(
    readonly size: number,
    readonly alpha = 1e-4,
    readonly beta = 0.75,
    readonly k = 1,
  ) {
    super();
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${pyFloat(this.alpha)}, beta=${pyFloat(this.beta)}, k=${pyFloat(this.k)}`;
  }

  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, this.alpha, this.beta, this.k);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
