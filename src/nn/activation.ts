// ReLU layer (PyTorch's inplace flag only saves memory there; here it is always out of place).
import type { Shape } from '../backend/backend.js';
import { relu } from '../ops/activation.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }

  outputShape(input: Shape): Shape {
    return input;
  }
}
