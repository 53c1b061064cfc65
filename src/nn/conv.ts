// Conv2d layer: weight [out, in/groups, kh, kw], bias [out]; PyTorch's default init.
import type { Shape } from '../backend/backend.js';
import { convGeometry, pair, type Pair } from '../backend/conv_util.js';
import { conv2d } from '../ops/conv.js';
import { UsageError } from '../errors.js';
import type { Generator } from '../random.js';
import { pyTuple } from '../summary/format.js';
import { Tensor } from '../tensor.js';
import { pytorchDefaultInit } from './init.js';
import { Module } from './module.js';

export interface Conv2dOptions {
  stride?: number | Pair;
  padding?: number | Pair;
  groups?: number;
  bias?: boolean;
  rng?: Generator;
}

export class Conv2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly groups: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | Pair,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.kernelSize = pair(kernelSize);
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new UsageError(`Conv2d: groups=${this.groups} must divide in (${inChannels}) and out (${outChannels}) channels`);
    }
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', Tensor.zeros([outChannels, inChannels / this.groups, kh, kw]))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : Tensor.zeros([outChannels]));
    pytorchDefaultInit(this.weight, this.bias, (inChannels / this.groups) * kh * kw, opts.rng);
  }

  /** As PyTorch prints it: stride always, padding and groups where not the default, bias=False without one. */
  override extraRepr(): string {
    const [ph, pw] = this.padding;
    return [
      `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`,
      ph || pw ? `, padding=${pyTuple(this.padding)}` : '',
      this.groups !== 1 ? `, groups=${this.groups}` : '',
      this.bias ? '' : ', bias=False',
    ].join('');
  }

  forward(x: Tensor): Tensor {
    return this.forwardFused(x, false);
  }

  /** Convolution with the following ReLU fused in (Sequential uses this for Conv2d → ReLU). */
  forwardFused(x: Tensor, relu: boolean): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups, relu });
  }

  outputShape(input: Shape): Shape {
    const g = convGeometry(input, this.weight.shape, this.stride, this.padding, this.groups);
    return [g.n, g.oc, g.oh, g.ow];
  }

  /** Multiply-accumulates for one image. */
  macs(input: Shape): number {
    const g = convGeometry(input, this.weight.shape, this.stride, this.padding, this.groups);
    return g.oc * g.oh * g.ow * (this.inChannels / this.groups) * g.kh * g.kw;
  }
}
