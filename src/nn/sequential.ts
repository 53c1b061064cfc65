// Sequential container: children named '0', '1', ... as in torch.nn.Sequential. Forward fuses a
// Conv2d or Linear followed by ReLU into one kernel call (same result, one pass less).
import type { Shape } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';
import { ReLU } from './activation.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    let fusedUpTo = -1;
    for (const [i, m] of this.layers.entries()) {
      if (i <= fusedUpTo) continue; // a ReLU already applied by the layer before it
      if ((m instanceof Conv2d || m instanceof Linear) && this.layers[i + 1] instanceof ReLU) {
        h = m.forwardFused(h, true);
        fusedUpTo = i + 1;
      } else {
        h = m.forward(h);
      }
    }
    return h;
  }

  outputShape(input: Shape): Shape {
    return this.layers.reduce((s, m) => m.outputShape(s), input);
  }
}
