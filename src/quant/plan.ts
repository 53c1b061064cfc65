// An AlexNet's layers as the int8 network sees them: weight layers (a convolution or linear layer
// with the ReLU that follows it fused, and the LRN after that ReLU as an f32 island), max pools,
// adaptive average pools that resize, flattening, and what int8 leaves out (dropout at inference,
// an adaptive average pool that is an identity at this input size). Calibration observes each
// weight layer's output where this plan says it ends (after its LRN, if any); the spec is built
// from the same plan. What int8 does not run (padded or ceil-mode pooling, a ReLU or LRN
// elsewhere) is a UsageError naming the layer.
import { UsageError } from '../errors.js';
import type { AlexNet } from '../models/index.js';
import { ReLU } from '../nn/activation.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { LocalResponseNorm } from '../nn/lrn.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool.js';

export type PlanStep =
  | {
      kind: 'weight';
      /** State-dict prefix ('features.0', 'fc_layer.6'). */
      name: string;
      layer: Conv2d | Linear;
      relu: boolean;
      /** The LRN after the ReLU (alexnet-2012), run in f32. */
      lrn?: LocalResponseNorm;
      /** Index in model.stages() after which the (ReLU'd, normalised) output is observed. */
      endsAt: number;
      /** For a linear layer after flattening: the [c, h, w] it flattens (its columns are NCHW-ordered). */
      flattened?: [number, number, number];
    }
  | { kind: 'maxpool'; layer: MaxPool2d }
  /** An adaptive average pool that resizes its input (an identity one is left out). */
  | { kind: 'avgpool'; layer: AdaptiveAvgPool2d; oh: number; ow: number };

export function planOf(model: AlexNet): PlanStep[] {
  const names = new Map(model.namedModules().map(([name, m]) => [m, name]));
  const stages = model.stages();
  const steps: PlanStep[] = [];
  let shape: readonly number[] = [1, ...model.inputShape];
  let flattened: [number, number, number] | undefined;
  stages.forEach((m, i) => {
    const what = m === 'flatten' ? 'flatten' : `${names.get(m) ?? '?'} (${m.typeName})`;
    if (m === 'flatten') {
      const [, c, h, w] = shape;
      flattened = [c ?? 1, h ?? 1, w ?? 1];
      shape = [1, (c ?? 1) * (h ?? 1) * (w ?? 1)];
      return;
    }
    const before = shape;
    shape = m.outputShape(shape);
    if (m instanceof Conv2d || m instanceof Linear) {
      steps.push({
        kind: 'weight',
        name: names.get(m) ?? '',
        layer: m,
        relu: false,
        endsAt: i,
        flattened: m instanceof Linear ? flattened : undefined,
      });
      flattened = undefined;
    } else if (m instanceof ReLU) {
      const last = steps.at(-1);
      if (!last || last.kind !== 'weight' || last.relu || last.endsAt !== i - 1)
        throw new UsageError(`int8: ${model.arch}'s ${what} does not follow a convolution or linear layer, which int8 fuses it into`);
      last.relu = true;
      last.endsAt = i;
    } else if (m instanceof LocalResponseNorm) {
      const last = steps.at(-1);
      if (!last || last.kind !== 'weight' || !last.relu || last.lrn || last.endsAt !== i - 1 || last.layer instanceof Linear)
        throw new UsageError(`int8: ${model.arch}'s ${what} does not follow a convolution's ReLU, the only place int8 runs an LRN`);
      if (m.size % 2 === 0) throw new UsageError(`int8: ${what} has an even size, which int8 does not run`);
      last.lrn = m;
      last.endsAt = i;
    } else if (m instanceof MaxPool2d) {
      if (m.padding[0] || m.padding[1] || m.ceilMode) throw new UsageError(`int8: ${what} pads or uses ceil mode, which int8 does not run`);
      steps.push({ kind: 'maxpool', layer: m });
    } else if (m instanceof AdaptiveAvgPool2d) {
      if (before.join() !== shape.join()) steps.push({ kind: 'avgpool', layer: m, oh: shape[2] ?? 1, ow: shape[3] ?? 1 });
    } else if (!(m instanceof Dropout)) {
      throw new UsageError(`int8: ${model.arch}'s ${what} has no int8 form`);
    }
  });
  const last = steps.at(-1);
  if (!last || last.kind !== 'weight' || !(last.layer instanceof Linear))
    throw new UsageError(`int8: ${model.arch} does not end in a linear layer`);
  return steps;
}
