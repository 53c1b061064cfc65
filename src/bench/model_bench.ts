// Whole-model throughput: median images/s of AlexNet inference (forward, no autograd) or one
// training step (forward, cross-entropy, backward, SGD with momentum; the d2l preset's model and
// plain SGD with `preset: 'd2l'`) after warm-up, on the
// native backend (or the reference backend where the addon is unavailable). Used by
// `alexnet bench` and bench/compare.ts.
import type { ClassifierPrecision, Precision } from '../backend/backend.js';
import type { Backend } from '../backend/backend.js';
import { setBackend, type BackendName } from '../backend/registry.js';
import { loadedAddon } from '../backend/native/addon.js';
import { NativeBackend } from '../backend/native/native_backend.js';
import { createModel, type ArchName } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { crossEntropy } from '../ops/index.js';
import { SGD } from '../optim/index.js';
import { Generator } from '../random.js';
import { Tensor, noGrad, tidy } from '../tensor.js';
import { RECIPES } from '../train/config.js';

export type BenchMode = 'infer' | 'train';

export interface BenchOptions {
  arch: ArchName;
  /**
   * 'd2l': the textbook's Fashion-MNIST model instead (alexnet-v1 layers, 1×224×224 input, FC6
   * sized for it, 10 classes) trained with plain SGD (lr 0.01, no momentum), as `--preset d2l` trains.
   */
  preset?: 'd2l';
  batch: number;
  mode: BenchMode;
  precision: Precision;
  /** Linear layers' weights in inference (the native backend's bf16 / int8 copies). */
  classifierPrecision?: ClassifierPrecision;
  threads?: number;
  /** Untimed iterations first (default 2). */
  warmup?: number;
  /** Timed iterations; the median is reported (default 5). */
  iters?: number;
  backend?: BackendName;
}

export interface BenchResult {
  arch: ArchName;
  batch: number;
  mode: BenchMode;
  precision: Precision;
  threads: number;
  backend: string;
  img_per_s: number;
  ms_per_iter: number;
  preset?: 'd2l';
  /** Present when the classifier's weights were read in bf16 or int8. */
  classifier_precision?: ClassifierPrecision;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Sets up the backend for a benchmark; returns it and the effective precision. */
export function benchBackend(opts: Pick<BenchOptions, 'precision' | 'threads' | 'backend' | 'classifierPrecision'>): {
  backend: Backend;
  precision: Precision;
} {
  const backend = setBackend(opts.backend ?? 'native', {
    precision: opts.precision,
    threads: opts.threads,
    classifierPrecision: opts.classifierPrecision,
  });
  const precision = backend.precision;
  return { backend, precision };
}

/** One SGD training step on a fixed batch: forward, cross-entropy, backward, update (the loss read back). */
export function trainStep(model: Module, opt: SGD, x: Tensor, labels: Int32Array): void {
  model.train();
  opt.zeroGrad();
  tidy(() => {
    const loss = crossEntropy(model.forward(x), labels);
    loss.backward();
    return loss.item();
  });
  opt.step();
}

export function runModelBench(opts: BenchOptions): BenchResult {
  const { backend, precision } = benchBackend(opts);
  const rng = new Generator(1);
  const d2l = opts.preset === 'd2l';
  const r = RECIPES.d2l;
  const model = d2l
    ? createModel(r.arch, { numClasses: 10, inChannels: r.inChannels, inputSize: r.inputSize(r.arch), init: r.init, rng })
    : createModel(opts.arch, { rng });
  const [c, h, w] = model.inputShape;
  const x = Tensor.uniform([opts.batch, c, h, w], -1, 1, { rng });
  const labels = Int32Array.from({ length: opts.batch }, () => rng.int(model.numClasses));
  const opt = new SGD(
    model.parameters(),
    d2l ? { lr: r.lr, momentum: r.momentum, weightDecay: r.weightDecay } : { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 },
  );
  const iterate =
    opts.mode === 'infer'
      ? (): void => {
          model.eval();
          // The logits are read back: a backend that queues its work (webgpu) is timed to its end.
          noGrad(() =>
            tidy(() => {
              model.forward(x).toArray();
            }),
          );
        }
      : (): void => trainStep(model, opt, x, labels);
  for (let i = 0; i < (opts.warmup ?? 2); i++) iterate();
  const times: number[] = [];
  for (let i = 0; i < (opts.iters ?? 5); i++) {
    const t0 = performance.now();
    iterate();
    times.push(performance.now() - t0);
  }
  opt.zeroGrad();
  const ms = median(times);
  const threads = backend instanceof NativeBackend ? (loadedAddon()?.threads() ?? 1) : 1;
  return {
    arch: d2l ? r.arch : opts.arch,
    batch: opts.batch,
    mode: opts.mode,
    precision,
    threads,
    backend: backend.name,
    img_per_s: (opts.batch * 1000) / ms,
    ms_per_iter: ms,
    ...(d2l ? { preset: 'd2l' as const } : {}),
    ...(backend.classifierPrecision && backend.classifierPrecision !== 'f32' ? { classifier_precision: backend.classifierPrecision } : {}),
  };
}
