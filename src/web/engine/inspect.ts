// Looking inside a model: a forward pass that keeps every layer's feature maps (the stages of
// AlexNet.stages(), named as torchsummary names them: Conv2d-1, ReLU-2, …), and conv1's filters
// laid out as one image, each filter scaled to its own range (CNN Explainer's view).
import type { AlexNet } from '../../models/alexnet_base.js';
import type { Module } from '../../nn/module.js';
import { flatten } from '../../ops/shape.js';
import { noGrad, Tensor, tidy } from '../../tensor.js';
import type { FeatureMaps, ModelInfo } from '../protocol.js';

/** The named leaf layers in forward order, each with its output shape [C, H, W] (or [F]). */
export function layersOf(model: AlexNet): { name: string; module: Module | 'flatten'; shape: number[] }[] {
  const out: { name: string; module: Module | 'flatten'; shape: number[] }[] = [];
  let shape: readonly number[] = [1, ...model.inputShape];
  let k = 0;
  for (const stage of model.stages()) {
    if (stage === 'flatten') {
      shape = [1, shape.slice(1).reduce((a, b) => a * b, 1)];
      out.push({ name: 'Flatten', module: stage, shape: shape.slice(1) });
      continue;
    }
    shape = stage.outputShape(shape);
    k += 1;
    out.push({ name: `${stage.typeName}-${k}`, module: stage, shape: shape.slice(1) });
  }
  return out;
}

/** The model's logits for x [1, C, H, W], and the feature maps of every layer that outputs [C, H, W]. */
export function forwardKeepingMaps(model: AlexNet, x: Float32Array): { logits: Float32Array; maps: FeatureMaps[] } {
  const maps: FeatureMaps[] = [];
  const logits = noGrad(() =>
    tidy(() => {
      let h = Tensor.fromArray(x, [1, ...model.inputShape]);
      for (const { name, module } of layersOf(model)) {
        h = module === 'flatten' ? flatten(h, 1) : module.forward(h);
        if (h.shape.length === 4) maps.push({ name, shape: h.shape.slice(1), data: Float32Array.from(h.toArray()) });
      }
      return Float32Array.from(h.toArray());
    }),
  );
  return { logits, maps };
}

/** conv1's weights [O, I, k, k] as a grid of k×k cells (RGB when I is 3, else the first channel in grey). */
export function filterGrid(model: AlexNet): ModelInfo['filters'] {
  const weight = [...model.stateDict().values()].find((t) => t.shape.length === 4);
  if (!weight) throw new Error('filterGrid: the model has no convolution');
  const [o = 0, i = 0, k = 0] = weight.shape;
  const w = weight.toArray();
  const cols = Math.ceil(Math.sqrt(o));
  const rows = Math.ceil(o / cols);
  const cell = k + 1;
  const width = cols * cell + 1;
  const height = rows * cell + 1;
  const rgba = new Uint8ClampedArray(width * height * 4).fill(255);
  const per = i * k * k;
  for (let f = 0; f < o; f++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < per; j++) {
      const v = w[f * per + j]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const x0 = (f % cols) * cell + 1;
    const y0 = Math.floor(f / cols) * cell + 1;
    for (let y = 0; y < k; y++) {
      for (let x = 0; x < k; x++) {
        const at = ((y0 + y) * width + x0 + x) * 4;
        for (let c = 0; c < 3; c++) {
          const ch = i === 3 ? c : 0;
          rgba[at + c] = (w[f * per + ch * k * k + y * k + x]! - lo) * scale;
        }
      }
    }
  }
  return { width, height, cols, cell, rgba };
}
