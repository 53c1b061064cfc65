// Dropout layer: inverted dropout in training mode, identity in eval mode.
import type { Shape } from '../backend/backend.js';
import { dropout } from '../ops/dropout.js';
import { UsageError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { pyFloat } from '../summary/format.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    readonly rng: Generator = defaultGenerator,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new UsageError(`Dropout: probability must be in [0, 1], got ${p}`);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
