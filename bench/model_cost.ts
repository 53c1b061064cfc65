// What one image costs an AlexNet, counted from its layers: the multiply-adds of its convolutions
// and linear layers (forward; a training step adds the weight gradients of every layer and the
// input gradients of all but the first, which nothing needs), and the bytes of its f32 weights.
// The bench divides these by a measured limit (bench/limits/) to say how close a time is to it;
// pooling, ReLU, dropout and the loss are left out (under 1% of the flops).
import { createModel, type AlexNet, type ArchName } from '../src/models/index.js';
import { Conv2d } from '../src/nn/conv.js';
import { Linear } from '../src/nn/linear.js';
import { RECIPES } from '../src/train/config.js';

/** An architecture, or 'd2l': the textbook's Fashion-MNIST model that `--preset d2l` builds. */
export type BenchModel = ArchName | 'd2l';

export interface LayerCost {
  name: string;
  kind: 'conv' | 'linear';
  /** Floating-point operations (2 per multiply-add) of one image's forward pass. */
  flops: number;
  /** Bytes of the layer's f32 weight and bias. */
  weightBytes: number;
}

export interface ModelCost {
  layers: LayerCost[];
  forwardFlops: number;
  trainFlops: number;
  weightBytes: number;
}

/** The model the bench runs for `m` (the current backend holds its weights). */
export function benchModel(m: BenchModel): AlexNet {
  if (m !== 'd2l') return createModel(m);
  const r = RECIPES.d2l;
  return createModel(r.arch, { numClasses: 10, inChannels: r.inChannels, inputSize: r.inputSize(r.arch), init: r.init });
}

export function modelCost(model: AlexNet): ModelCost {
  let shape: number[] = [1, ...model.inputShape];
  const layers: LayerCost[] = [];
  let convs = 0;
  let linears = 0;
  for (const stage of model.stages()) {
    if (stage === 'flatten') {
      shape = [1, shape.slice(1).reduce((a, b) => a * b, 1)];
      continue;
    }
    const out = stage.outputShape(shape);
    const bytes = 4 * stage.parameters().reduce((s, p) => s + p.size, 0);
    if (stage instanceof Conv2d) {
      const [kh, kw] = stage.kernelSize;
      const macs = out.slice(1).reduce((a, b) => a * b, 1) * (stage.inChannels / stage.groups) * kh * kw;
      layers.push({ name: `conv${++convs}`, kind: 'conv', flops: 2 * macs, weightBytes: bytes });
    } else if (stage instanceof Linear) {
      layers.push({ name: `fc${6 + linears++}`, kind: 'linear', flops: 2 * stage.inFeatures * stage.outFeatures, weightBytes: bytes });
    }
    shape = [...out];
  }
  const forwardFlops = layers.reduce((s, l) => s + l.flops, 0);
  return {
    layers,
    forwardFlops,
    trainFlops: 3 * forwardFlops - (layers[0]?.flops ?? 0),
    weightBytes: layers.reduce((s, l) => s + l.weightBytes, 0),
  };
}
