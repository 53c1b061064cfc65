// A quantized AlexNet as a Module: forward takes f32 images [N, C, H, W] (any backend) and returns
// f32 logits [N, classes] computed by the int8 network (int8_engine.ts), so evaluation, prediction,
// serving and benchmarks use it as they use the f32 model. It has no parameters and cannot train.
import type { Shape } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import type { ArchName } from '../models/index.js';
import { Module } from '../nn/module.js';
import { shapeText, Tensor } from '../tensor.js';
import type { Int8Engine } from './int8_engine.js';
import type { Calibrator } from './observers.js';

export class Int8AlexNet extends Module {
  constructor(
    readonly arch: ArchName,
    readonly inputShape: readonly [number, number, number],
    readonly numClasses: number,
    readonly engine: Int8Engine,
    readonly calibrator: Calibrator,
  ) {
    super();
    this.training = false;
  }

  override get typeName(): string {
    return 'QuantizedAlexNet';
  }

  override extraRepr(): string {
    return `arch=${this.arch}, int8 on ${this.engine.name}, calibrator=${this.calibrator}`;
  }

  /** Images in the batch, or a ShapeError naming the input the model takes. */
  private batchOf(shape: Shape): number {
    const [c, h, w] = this.inputShape;
    if (shape.length !== 4 || shape[1] !== c || shape[2] !== h || shape[3] !== w || !shape[0])
      throw new ShapeError(`int8 ${this.arch} expects input [N, ${c}, ${h}, ${w}], got ${shapeText(shape)}`);
    return shape[0];
  }

  forward(x: Tensor): Tensor {
    const n = this.batchOf(x.shape);
    const data = x.toArray();
    const y = this.engine.run(data instanceof Float32Array ? data : Float32Array.from(data), n);
    return Tensor.fromArray(y, [n, this.numClasses]);
  }

  override async forwardAsync(x: Tensor): Promise<Tensor> {
    const n = this.batchOf(x.shape);
    const data = x.toArray();
    const y = await this.engine.runAsync(data instanceof Float32Array ? data : Float32Array.from(data), n);
    return Tensor.fromArray(y, [n, this.numClasses]);
  }

  outputShape(input: Shape): Shape {
    return [this.batchOf(input), this.numClasses];
  }

  /** Always in inference mode: there are no float weights to train. */
  override train(): this {
    this.training = false;
    return this;
  }
}
