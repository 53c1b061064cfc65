// TF.js 4.22 with its WebGPU backend: the same layers models and weights as the browser benchmark's
// TF.js peer (bench/browser/tfjs_peer.ts: torchvision AlexNet in NHWC with PyTorch's weights, and
// alexnet-v1 for the training step), on tf.setBackend('webgpu') instead of wasm.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { timeTfjs } from '../browser/tfjs_peer.js';
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
    await timeTfjs(result, cfg, weightsUrl, manifestUrl, 'WebGPU');
  } catch (err) {
    result.notes.push(`inference failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return result;
}
