// ONNX Runtime side of bench/compare.ts (run in its own process so its thread pool does not
// compete with ours): median img/s of f32 inference of an ONNX file. Prints one JSON object.
//   node dist/bench/ort_infer.js MODEL.onnx ARCH BATCH THREADS WARMUP ITERS
import * as ort from 'onnxruntime-node';
import { median } from '../src/bench/model_bench.js';

async function main(): Promise<void> {
  const [file, arch, batchS, threadsS, warmupS, itersS] = process.argv.slice(2);
  if (!file) throw new Error('usage: ort_infer FILE ARCH BATCH THREADS WARMUP ITERS');
  const batch = Number(batchS);
  const threads = Number(threadsS);
  const size = arch === 'alexnet' ? 224 : 227;
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const data = new Float32Array(batch * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 0.001);
  const inputName = session.inputNames[0];
  if (inputName === undefined) throw new Error(`${file}: the model has no input`);
  const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, 3, size, size]) };
  for (let i = 0; i < Number(warmupS); i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < Number(itersS); i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  process.stdout.write(
    `${JSON.stringify({ arch, batch, mode: 'infer', precision: 'f32', threads, backend: `onnxruntime-node ${ort.env.versions.common}`, img_per_s: (batch * 1000) / ms, ms_per_iter: ms })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`ort_infer: ${(e as Error).message}\n`);
  process.exit(1);
});
