// ReLU layer. PyTorch's inplace flag only saves memory there; here the output is always a new
// tensor and the flag only shows in the printed module tree, as the PyTorch model defines it.
import type { Shape } from '../backend/backend.js';
import { relu } from '../ops/activation.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class ReLU extends Module {
  constructor(readonly inplace = false) {
    super();
  }

  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }

  forward(x: Tensor): Tensor {
    return relu(x);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
