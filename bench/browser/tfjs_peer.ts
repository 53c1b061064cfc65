// TF.js 4.22 with its wasm backend (XNNPACK, SIMD, setThreadsCount as asked): torchvision AlexNet
// rebuilt as a layers model (NHWC; PyTorch's padding as ZeroPadding2D) holding the same weights
// (OIHW → HWIO, FC6's input reordered from C·H·W to H·W·C), and asked for an alexnet-v1 training
// step (batch 16 at 65×65, SGD with momentum) to record what it does.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { benchInput, median, type BenchConfig, type PeerResult } from './protocol.js';

export interface WeightEntry {
  name: string;
  shape: number[];
  offset: number;
}

type Layers = tf.layers.Layer[];

function conv(filters: number, k: number, stride: number, pad: number, inputShape?: number[]): Layers {
  const layers: Layers = [];
  if (pad > 0) layers.push(tf.layers.zeroPadding2d({ padding: pad, ...(inputShape ? { inputShape } : {}) }));
  layers.push(
    tf.layers.conv2d({ filters, kernelSize: k, strides: stride, activation: 'relu', ...(pad === 0 && inputShape ? { inputShape } : {}) }),
  );
  return layers;
}

const pool = (): tf.layers.Layer => tf.layers.maxPooling2d({ poolSize: 3, strides: 2 });

export function torchvisionAlexNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      ...conv(64, 11, 4, 2, [224, 224, 3]),
      pool(),
      ...conv(192, 5, 1, 2),
      pool(),
      ...conv(384, 3, 1, 1),
      ...conv(256, 3, 1, 1),
      ...conv(256, 3, 1, 1),
      pool(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4096, activation: 'relu' }),
      tf.layers.dense({ units: 4096, activation: 'relu' }),
      tf.layers.dense({ units: 1000 }),
    ],
  });
}

export function alexNetV1(size: number): tf.Sequential {
  return tf.sequential({
    layers: [
      ...conv(96, 11, 4, 1, [size, size, 3]),
      pool(),
      ...conv(256, 5, 1, 2),
      pool(),
      ...conv(384, 3, 1, 1),
      ...conv(384, 3, 1, 1),
      ...conv(256, 3, 1, 1),
      pool(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4096, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 4096, activation: 'relu' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 1000 }),
    ],
  });
}

/** Our state dict (PyTorch layouts) → the layers model's weights, in layer order. */
export function loadWeights(model: tf.Sequential, manifest: WeightEntry[], data: Float32Array): void {
  const tensor = (e: WeightEntry): tf.Tensor => tf.tensor(data.subarray(e.offset, e.offset + e.shape.reduce((a, b) => a * b, 1)), e.shape);
  const weights: tf.Tensor[] = [];
  for (let i = 0; i < manifest.length; i += 2) {
    const w = manifest[i]!;
    const b = manifest[i + 1]!;
    if (w.shape.length === 4) {
      weights.push(tf.transpose(tensor(w), [2, 3, 1, 0])); // [o, i, h, w] → [h, w, i, o]
    } else if (w.shape[1] === 256 * 6 * 6) {
      // FC6: PyTorch flattens [256, 6, 6] (c, h, w); TF flattens [6, 6, 256] (h, w, c).
      const t = tf.reshape(tensor(w), [w.shape[0]!, 256, 6, 6]);
      weights.push(tf.reshape(tf.transpose(t, [2, 3, 1, 0]), [256 * 6 * 6, w.shape[0]!]));
    } else {
      weights.push(tf.transpose(tensor(w)));
    }
    weights.push(tensor(b));
  }
  model.setWeights(weights);
}

export async function timeIt(warmup: number, iters: number, run: () => Promise<void>): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export function nhwc(batch: number, size: number): tf.Tensor {
  return tf.tidy(() => tf.transpose(tf.tensor(benchInput(batch, 3, size, size), [batch, 3, size, size]), [0, 2, 3, 1]));
}

export async function runTfjs(cfg: BenchConfig, weightsUrl: string, manifestUrl: string): Promise<PeerResult> {
  const result: PeerResult = {
    peer: `TF.js ${tf.version.tfjs} (wasm backend)`,
    threads: '?',
    latencyMs: null,
    throughput: null,
    trainMs: null,
    notes: [],
    logits: [],
  };
  try {
    setWasmPaths('/tfjs/');
    setThreadsCount(cfg.threads);
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
    await tf.ready();
    result.threads = `${getThreadsCount()} (asked ${cfg.threads})`;
    await timeTfjs(result, cfg, weightsUrl, manifestUrl, 'wasm');
  } catch (err) {
    result.notes.push(`inference failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return result;
}

/** What timeTfjs fills in and reads of a benchmark configuration. */
type TfjsTimings = Pick<PeerResult, 'latencyMs' | 'throughput' | 'trainMs' | 'notes' | 'logits'>;
type TfjsConfig = Pick<BenchConfig, 'latencyWarmup' | 'latencyIters' | 'batchWarmup' | 'batchIters' | 'batch' | 'trainBatch' | 'trainSize'>;

/**
 * Times torchvision AlexNet (the weights at weightsUrl) at batch 1 and cfg.batch, then an
 * alexnet-v1 training step, on TF.js's current backend (`label` names it in the notes). Inference
 * failures throw; a training failure is a note (TF.js's backends differ in what they can train).
 */
export async function timeTfjs(
  result: TfjsTimings,
  cfg: TfjsConfig,
  weightsUrl: string,
  manifestUrl: string,
  label: string,
): Promise<void> {
  const manifest = (await (await fetch(manifestUrl)).json()) as WeightEntry[];
  const data = new Float32Array(await (await fetch(weightsUrl)).arrayBuffer());
  const model = torchvisionAlexNet();
  loadWeights(model, manifest, data);
  const infer = async (x: tf.Tensor, keep: boolean): Promise<void> => {
    const y = model.predict(x) as tf.Tensor;
    const values = (await y.data()) as Float32Array;
    if (keep) result.logits = Array.from(values.subarray(0, 1000));
    y.dispose();
  };
  const x1 = nhwc(1, 224);
  result.latencyMs = await timeIt(cfg.latencyWarmup, cfg.latencyIters, () => infer(x1, true));
  const xb = nhwc(cfg.batch, 224);
  result.throughput = (cfg.batch * 1000) / (await timeIt(cfg.batchWarmup, cfg.batchIters, () => infer(xb, false)));
  tf.dispose([x1, xb]);
  model.dispose();
  try {
    const model = alexNetV1(cfg.trainSize);
    const opt = tf.train.momentum(0.01, 0.9);
    const x = nhwc(cfg.trainBatch, cfg.trainSize);
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: cfg.trainBatch }, (_, i) => (i * 37) % 1000),
        'int32',
      ),
      1000,
    );
    const step = async (): Promise<void> => {
      const loss = opt.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
      );
      await loss!.data();
      loss!.dispose();
    };
    result.trainMs = await timeIt(cfg.batchWarmup, cfg.batchIters, step);
    tf.dispose([x, labels]);
    model.dispose();
    result.notes.push(`training: optimizer.minimize on the ${label} backend works`);
  } catch (err) {
    result.notes.push(`training: fails on the ${label} backend: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}
