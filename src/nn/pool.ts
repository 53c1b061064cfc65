// Pooling layers: MaxPool2d (stride defaults to the kernel size) and AdaptiveAvgPool2d. Each keeps
// its sizes as given (a number or a pair) to print them as PyTorch does.
import type { Shape } from '../backend/backend.js';
import { adaptivePoolGeometry, pair, poolGeometry, type Pair } from '../backend/conv_util.js';
import { adaptiveAvgPool2d, maxPool2d } from '../ops/pool.js';
import { pyTuple } from '../summary/format.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** A size as PyTorch prints what it was given: 3 or (3, 2). */
function sizeText(v: number | Pair): string {
  return typeof v === 'number' ? String(v) : pyTuple(v);
}

export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly ceilMode: boolean;
  private readonly given: { kernelSize: number | Pair; stride: number | Pair; padding: number | Pair };

  constructor(kernelSize: number | Pair, stride?: number | Pair, padding: number | Pair = 0, ceilMode = false) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(stride ?? kernelSize);
    this.padding = pair(padding);
    this.ceilMode = ceilMode;
    this.given = { kernelSize, stride: stride ?? kernelSize, padding };
  }

  override extraRepr(): string {
    const g = this.given;
    return `kernel_size=${sizeText(g.kernelSize)}, stride=${sizeText(g.stride)}, padding=${sizeText(g.padding)}, dilation=1, ceil_mode=${this.ceilMode ? 'True' : 'False'}`;
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

  constructor(private readonly givenSize: number | Pair) {
    super();
    this.outputSize = pair(givenSize);
  }

  override extraRepr(): string {
    return `output_size=${sizeText(this.givenSize)}`;
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  outputShape(input: Shape): Shape {
    const g = adaptivePoolGeometry(input, this.outputSize);
    return [g.n, g.c, g.oh, g.ow];
  }
}
