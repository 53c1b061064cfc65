// Pooling layers: MaxPool2d (stride defaults to the kernel size) and AdaptiveAvgPool2d.
import type { Shape } from '../backend/backend.js';
import { pair, poolGeometry, type Pair } from '../backend/conv_util.js';
import { adaptiveAvgPool2d, maxPool2d } from '../ops/pool.js';
import { shapeText, type Tensor } from '../tensor.js';
import { Module } from './module.js';

export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;

  constructor(kernelSize: number | Pair, stride?: number | Pair, padding: number | Pair = 0, ceilMode = false) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(stride ?? kernelSize);
    this.padding = pair(padding);
    this.ceilMode = ceilMode;
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode });
  }

  outputShape(input: Shape): Shape {
    const g = poolGeometry(input, this.kernelSize, this.stride, this.padding, this.ceilMode);
    return [g.n, g.c, g.oh, g.ow];
  }
}

export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: [number, number];

  constructor(outputSize: number | Pair) {
    super();
    this.outputSize = pair(outputSize);
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  outputShape(input: Shape): Shape {
    if (input.length !== 4) throw new Error(`AdaptiveAvgPool2d: expected [N, C, H, W], got ${shapeText(input)}`);
    return [input[0], input[1], ...this.outputSize];
  }
}
