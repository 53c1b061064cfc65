// TF.js 4.22 with its WebGPU backend: the same layers models and weights as the browser benchmark's
// TF.js peer (bench/browser/tfjs_peer.ts: torchvision AlexNet in NHWC with PyTorch's weights, and
// alexnet-v1 for the training step), on tf.setBackend('webgpu') instead of wasm.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { alexNetV1, loadWeights, nhwc, timeIt, torchvisionAlexNet, type WeightEntry } from '../browser/tfjs_peer.js';
import type { GpuBenchConfig, GpuPeerResult } from './protocol.js';

/** The adapter TF.js asked for (its backend keeps GPUAdapterInfo's vendor and architecture, untyped). */
function adapterOf(backend: tf.KernelBackend): string {
  const info = (backend as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
  return info ? `${info.vendor ?? ''} ${info.architecture ?? ''}`.trim() : '?';
}

export async function runTfjsWebGpu(cfg: GpuBenchConfig, weightsUrl: string, manifestUrl: string): Promise<GpuPeerResult> {
  const result: GpuPeerResult = {
    peer: `TF.js ${tf.version.tfjs} (WebGPU backend)`,
    adapter: '',
    latencyMs: null,
    throughput: null,
    trainMs: null,
    notes: [],
    logits: [],
  };
  try {
    if (!(await tf.setBackend('webgpu'))) throw new Error('the webgpu backend did not initialise');
    await tf.ready();
    result.adapter = adapterOf(tf.backend());
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
  } catch (err) {
    result.notes.push(`inference failed: ${err instanceof Error ? err.message : String(err)}`);
    return result;
  }
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
    result.notes.push('training: optimizer.minimize on the WebGPU backend works');
  } catch (err) {
    result.notes.push(`training: fails on the WebGPU backend: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  return result;
}
