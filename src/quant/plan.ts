// An AlexNet's layers as the int8 network sees them: weight layers (a convolution or linear layer
// with the ReLU that follows it fused), max pools, flattening, and what int8 leaves out (dropout at
// inference, an adaptive average pool that is an identity at this input size). Calibration
// observes each weight layer's output where this plan says it ends; the spec is built from the
// same plan. What int8 cannot run exactly (LRN, padded or ceil-mode pooling, a resizing adaptive
// pool, a ReLU not after a weight layer) is a UsageError naming the layer.
import { UsageError } from '../errors.js';
import type { AlexNet } from '../models/index.js';
import { ReLU } from '../nn/activation.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool.js';

export type PlanStep =
  | {
      kind: 'weight';
      /** State-dict prefix ('features.0', 'fc_layer.6'). */
      name: string;
      layer: Conv2d | Linear;
      relu: boolean;
      /** Index in model.stages() after which the (ReLU'd) output is observed. */
      endsAt: number;
      /** For a linear layer after flattening: the [c, h, w] it flattens (its columns are NCHW-ordered). */
      flattened?: [number, number, number];
    }
  | { kind: 'maxpool'; layer: MaxPool2d };

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
    } else if (m instanceof MaxPool2d) {
      if (m.padding[0] || m.padding[1] || m.ceilMode) throw new UsageError(`int8: ${what} pads or uses ceil mode, which int8 does not run`);
      steps.push({ kind: 'maxpool', layer: m });
    } else if (m instanceof AdaptiveAvgPool2d) {
      if (before.join() !== shape.join())
        throw new UsageError(
          `int8: ${model.arch}'s ${what} resizes [${before.slice(1).join(', ')}] to [${shape.slice(1).join(', ')}] at input size ${model.inputShape[1]}; int8 runs it only where it is an identity (input 224)`,
        );
    } else if (!(m instanceof Dropout)) {
      throw new UsageError(
        `int8: ${model.arch}'s ${what} has no int8 form (int8 runs alexnet and alexnet-v1; alexnet-2012's LRN is not supported)`,
      );
    }
  });
  const last = steps.at(-1);
  if (!last || last.kind !== 'weight' || !(last.layer instanceof Linear))
    throw new UsageError(`int8: ${model.arch} does not end in a linear layer`);
  return steps;
}
