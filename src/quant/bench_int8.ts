// `alexnet bench --precision int8`: median images/s of int8 inference after warm-up. The model is
// a quantized file (--weights M) or the architecture's (or d2l preset's) model with seeded random
// weights, quantized on a few random images (speed does not depend on the values). Timed: the int8
// network on an f32 batch, input quantization and f32 logits included, as a forward pass is.
import { setBackend } from '../backend/registry.js';
import { loadedAddon } from '../backend/native/addon.js';
import { median, type BenchResult } from '../bench/model_bench.js';
import { createModel, type ArchName } from '../models/index.js';
import { Generator } from '../random.js';
import { RECIPES } from '../train/config.js';
import type { ModelInfo } from '../train/weights.js';
import { loadInt8File, int8Model } from './load.js';
import { calibrate, quantizeModel, type Batch } from './quantize.js';

export interface Int8BenchOptions {
  arch: ArchName;
  preset?: 'd2l';
  /** A quantized model file; without it, a random model quantized on random images. */
  weights?: string;
  batch: number;
  threads?: number;
  warmup?: number;
  iters?: number;
}

export type Int8BenchResult = Omit<BenchResult, 'precision' | 'mode'> & { mode: 'infer'; precision: 'int8' };

async function* randomBatches(shape: readonly number[], count: number, rng: Generator): AsyncGenerator<Batch> {
  const per = shape.reduce((a, b) => a * b, 1);
  for (let i = 0; i < count; i++) yield { x: Float32Array.from({ length: 4 * per }, () => rng.uniform() * 2 - 1), shape: [4, ...shape] };
}

export async function runInt8Bench(opts: Int8BenchOptions): Promise<Int8BenchResult> {
  setBackend('native', { threads: opts.threads });
  const rng = new Generator(1);
  let model;
  let arch = opts.arch;
  if (opts.weights) {
    model = loadInt8File(opts.weights).model;
    arch = model.arch;
  } else {
    const r = RECIPES.d2l;
    const f32 = opts.preset
      ? createModel(r.arch, { numClasses: 10, inChannels: r.inChannels, inputSize: r.inputSize(r.arch), init: r.init, rng })
      : createModel(opts.arch, { rng });
    arch = f32.arch;
    const ranges = await calibrate(f32, randomBatches(f32.inputShape, 2, rng), { calibrator: 'minmax', images: 8 });
    const [inChannels, inputSize] = f32.inputShape;
    const info: ModelInfo = { arch, numClasses: f32.numClasses, inChannels, inputSize, classes: [], evalTransforms: [] };
    model = int8Model(quantizeModel(f32, ranges, { info, calibrator: 'minmax', calibrationData: 'random images' }));
    for (const [, p] of f32.namedParameters()) p.dispose();
  }
  const [c, h, w] = model.inputShape;
  const x = Float32Array.from({ length: opts.batch * c * h * w }, () => rng.uniform() * 2 - 1);
  const run = (): void => void model.engine.run(x, opts.batch);
  for (let i = 0; i < (opts.warmup ?? 2); i++) run();
  const times: number[] = [];
  for (let i = 0; i < (opts.iters ?? 5); i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  return {
    arch,
    batch: opts.batch,
    mode: 'infer',
    precision: 'int8',
    threads: model.engine.name === 'native' ? (loadedAddon()?.threads() ?? 1) : 1,
    backend: model.engine.name,
    img_per_s: (opts.batch * 1000) / ms,
    ms_per_iter: ms,
    ...(opts.preset ? { preset: opts.preset } : {}),
  };
}
