// Post-training static quantization of an AlexNet: calibration runs the f32 model on images and
// observes the range of its input and of each weight layer's (ReLU'd) output (observers.ts);
// weights are quantized per output channel, symmetric, to [-127, 127]; activations per tensor,
// symmetric: the input to s8 (range / 127), a ReLU'd output to u8 (range / 255), any other hidden
// output to s8 (a layer's output is taken after its ReLU and, in alexnet-2012, its LRN). The result
// (QuantizedModel) is what the file stores (format.ts); toSpec turns it into the network both int8
// engines run.
import { ShapeError } from '../errors.js';
import type { AlexNet, ArchName } from '../models/index.js';
import { Conv2d } from '../nn/conv.js';
import { flatten } from '../ops/shape.js';
import { noGrad, Tensor, tidy } from '../tensor.js';
import type { ModelInfo } from '../train/weights.js';
import type { Int8LayerSpec, Int8NetSpec } from './int8_spec.js';
import { makeObserver, type Calibrator, type RangeObserver } from './observers.js';
import { planOf, type PlanStep } from './plan.js';

export interface QuantizedLayer {
  /** Symmetric s8 weights in PyTorch's layout ([oc, c/g, kh, kw] or [oc, k], NCHW-flattened columns). */
  weight: Int8Array;
  shape: number[];
  /** Per output channel: weight ≈ q · scale. */
  weightScales: Float32Array;
  /** f32 bias (zeros where the layer has none). */
  bias: Float32Array;
  /** Scale of the layer's quantized output; null for the last layer (f32 logits). */
  outputScale: number | null;
}

export interface QuantizedModel {
  arch: ArchName;
  numClasses: number;
  inChannels: number;
  inputSize: number;
  /** Class names and preprocessing, as the f32 model's description had them. */
  info: ModelInfo;
  calibrator: Calibrator;
  calibrationImages: number;
  /** What the calibration images were (a dataset name or path). */
  calibrationData: string;
  inputScale: number;
  /** By state-dict prefix, in forward order. */
  layers: Map<string, QuantizedLayer>;
}

export interface Batch {
  x: Float32Array;
  shape: readonly number[];
}

export interface CalibrationRanges {
  input: number;
  /** Output range of each weight layer but the last, by name. */
  outputs: Map<string, number>;
  images: number;
}

/** Runs `model` (f32) on the batches, up to `images` images, observing the ranges int8 needs. */
export async function calibrate(
  model: AlexNet,
  batches: AsyncIterable<Batch>,
  opts: { calibrator: Calibrator; images: number; onBatch?: (seen: number) => void },
): Promise<CalibrationRanges> {
  const plan = planOf(model);
  const weights = plan.filter((s): s is Extract<PlanStep, { kind: 'weight' }> => s.kind === 'weight');
  const observed = new Map<number, { name: string; obs: RangeObserver }>();
  for (const s of weights.slice(0, -1)) observed.set(s.endsAt, { name: s.name, obs: makeObserver(opts.calibrator, s.relu ? 'u8' : 's8') });
  const input = makeObserver(opts.calibrator);
  const stages = model.stages();
  const wasTraining = model.training;
  model.eval();
  let seen = 0;
  try {
    for await (const b of batches) {
      if (b.shape.length !== 4) throw new ShapeError(`calibration: expected batches [N, C, H, W], got [${b.shape.join(', ')}]`);
      const take = Math.min(b.shape[0] ?? 0, opts.images - seen);
      if (take <= 0) break;
      const per = b.x.length / (b.shape[0] ?? 1);
      const x = b.x.subarray(0, take * per);
      input.observe(x);
      noGrad(() =>
        tidy(() => {
          let h = Tensor.fromArray(x, [take, ...b.shape.slice(1)]);
          model.checkInput(h.shape);
          stages.forEach((m, i) => {
            h = m === 'flatten' ? flatten(h, 1) : m.forward(h);
            observed.get(i)?.obs.observe(h.toArray());
          });
        }),
      );
      seen += take;
      opts.onBatch?.(seen);
      if (seen >= opts.images) break;
    }
  } finally {
    model.train(wasTraining);
  }
  return { input: input.range(), outputs: new Map([...observed.values()].map((o) => [o.name, o.obs.range()])), images: seen };
}

/** Symmetric per-row quantization of `w` ([rows, cols] row-major) to [-127, 127]. */
export function quantizePerChannel(w: ArrayLike<number>, rows: number): { q: Int8Array; scales: Float32Array } {
  const cols = w.length / rows;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) m = Math.max(m, Math.abs(w[r * cols + j]!));
    const s = m > 0 ? m / 127 : 1;
    scales[r] = s;
    for (let j = 0; j < cols; j++) q[r * cols + j] = Math.max(-127, Math.min(127, Math.round(w[r * cols + j]! / s)));
  }
  return { q, scales };
}

/** Quantizes `model`'s weights with the calibrated ranges. */
export function quantizeModel(
  model: AlexNet,
  ranges: CalibrationRanges,
  meta: { info: ModelInfo; calibrator: Calibrator; calibrationData: string },
): QuantizedModel {
  const plan = planOf(model);
  const layers = new Map<string, QuantizedLayer>();
  for (const s of plan) {
    if (s.kind !== 'weight') continue;
    const w = s.layer.weight;
    const oc = w.shape[0] ?? 1;
    const { q, scales } = quantizePerChannel(w.toArray(), oc);
    const bias = s.layer.bias ? Float32Array.from(s.layer.bias.toArray()) : new Float32Array(oc);
    const range = ranges.outputs.get(s.name);
    layers.set(s.name, {
      weight: q,
      shape: [...w.shape],
      weightScales: scales,
      bias,
      outputScale: range === undefined ? null : range / (s.relu ? 255 : 127),
    });
  }
  return {
    arch: model.arch,
    numClasses: model.numClasses,
    inChannels: model.inputShape[0],
    inputSize: model.inputShape[1],
    info: meta.info,
    calibrator: meta.calibrator,
    calibrationImages: ranges.images,
    calibrationData: meta.calibrationData,
    inputScale: ranges.input / 127,
    layers,
  };
}

/** Columns of w [oc, c·h·w] reordered from NCHW to NHWC flattening. */
function nhwcColumns(w: Int8Array, oc: number, [c, h, wd]: [number, number, number]): Int8Array {
  const k = c * h * wd;
  const out = new Int8Array(w.length);
  for (let o = 0; o < oc; o++)
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * wd; p++) out[o * k + p * c + ch] = w[o * k + ch * h * wd + p]!;
  return out;
}

/**
 * The int8 network of a quantized model, its structure from `model` (an AlexNet of the same
 * architecture and sizes; its weights are not read).
 */
export function toSpec(q: QuantizedModel, model: AlexNet): Int8NetSpec {
  const layers: Int8LayerSpec[] = [];
  let scale = q.inputScale;
  for (const s of planOf(model)) {
    if (s.kind === 'maxpool') {
      const l = s.layer;
      layers.push({ kind: 'maxpool', kh: l.kernelSize[0], kw: l.kernelSize[1], strideH: l.stride[0], strideW: l.stride[1] });
      continue;
    }
    if (s.kind === 'avgpool') {
      layers.push({ kind: 'avgpool', oh: s.oh, ow: s.ow });
      continue;
    }
    const ql = q.layers.get(s.name);
    if (!ql) throw new Error(`toSpec: no quantized layer '${s.name}'`);
    const oc = ql.shape[0] ?? 1;
    const stored = s.relu ? 'u8' : 's8';
    // Before an LRN the layer writes f32 (the real values): the LRN quantizes with the output scale.
    const out = ql.outputScale === null || s.lrn ? 'f32' : stored;
    const scales = new Float32Array(oc);
    const bias = new Float32Array(oc);
    for (let o = 0; o < oc; o++) {
      const acc = scale * ql.weightScales[o]!;
      scales[o] = out === 'f32' ? acc : acc / ql.outputScale!;
      bias[o] = ql.bias[o]! / acc;
    }
    const common = { oc, scales, bias, relu: s.relu, out } as const;
    if (s.layer instanceof Conv2d) {
      const l = s.layer;
      layers.push({
        kind: 'conv',
        ...common,
        kh: l.kernelSize[0],
        kw: l.kernelSize[1],
        strideH: l.stride[0],
        strideW: l.stride[1],
        padH: l.padding[0],
        padW: l.padding[1],
        groups: l.groups,
        weight: ql.weight,
      });
    } else {
      layers.push({ kind: 'linear', ...common, weight: s.flattened ? nhwcColumns(ql.weight, oc, s.flattened) : ql.weight });
    }
    if (s.lrn) {
      if (ql.outputScale === null) throw new Error(`toSpec: '${s.name}' ends the network with an LRN`);
      const { size, alpha, beta, k } = s.lrn;
      layers.push({ kind: 'lrn', size, alpha, beta, k, outputScale: ql.outputScale, out: stored });
    }
    scale = ql.outputScale ?? 1;
  }
  const [c, h, w] = model.inputShape;
  return { c, h, w, inputScale: q.inputScale, layers };
}
