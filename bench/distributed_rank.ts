// One rank of `npm run bench:distributed` (started by bench/distributed.ts under mpirun):
//   allreduce  ­— bandwidth of MPI_Allreduce between the ranks for 1 MB … 100 MB (f32 and bf16)
//   train      — timed SGD steps of AlexNet on a synthetic batch: plain (one process, no MPI
//                collectives), data-parallel (the trainer's DataParallel step) or hybrid
//                (`--parallel hybrid`: HybridParallel); prints the step time, the job's images/s
//                and the communication wait per step. `--copy toArray` makes the gradient
//                buckets take the path of backends without readInto (a fresh array per gradient,
//                then a copy into the bucket), for the before/after of the copy-free buckets.
// Prints one JSON line (rank 0 only).
import { setBackend } from '../src/backend/registry.js';
import { Communicator } from '../src/distributed/communicator.js';
import { DataParallel } from '../src/distributed/data_parallel.js';
import { HybridParallel } from '../src/distributed/hybrid_parallel.js';
import type { ParallelTraining } from '../src/distributed/parallel.js';
import { getBackend } from '../src/backend/registry.js';
import { allreduceChunked } from '../src/distributed/grad_reducer.js';
import { createModel, type ArchName } from '../src/models/index.js';
import { crossEntropy } from '../src/ops/index.js';
import { SGD } from '../src/optim/index.js';
import { Generator } from '../src/random.js';
import { keep, Tensor, tidy } from '../src/tensor.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const mode = arg('mode', 'train');
const comm = new Communicator();

async function allreduceBandwidth(): Promise<void> {
  const rows: { bytes: number; dtype: string; calls: 'one' | '1 MB'; seconds: number; gbPerS: number }[] = [];
  for (const mb of [1, 4, 25, 100]) {
    for (const dtype of ['f32', 'bf16']) {
      for (const calls of ['one', '1 MB'] as const) {
        const bytes = mb * 1024 * 1024;
        const buf = dtype === 'f32' ? new Float32Array(bytes / 4) : new Uint16Array(bytes / 2);
        const reduce = async (): Promise<number> => {
          const t0 = performance.now();
          await (calls === 'one' ? comm.allreduce(buf) : allreduceChunked(comm, buf));
          return (performance.now() - t0) / 1000;
        };
        await reduce();
        let best = Infinity;
        for (let i = 0; i < 3; i++) best = Math.min(best, await reduce());
        rows.push({ bytes, dtype, calls, seconds: best, gbPerS: bytes / best / 1e9 });
      }
    }
  }
  if (comm.primary) console.log(JSON.stringify({ mode, size: comm.size, rows }));
}

async function train(): Promise<void> {
  const arch = arg('arch', 'alexnet') as ArchName;
  const batch = Number(arg('batch', '32'));
  const steps = Number(arg('steps', '4'));
  const inputSize = Number(arg('input', '224'));
  const plain = process.argv.includes('--plain');
  const gradDtype = arg('grad-dtype', 'f32') as 'f32' | 'bf16';
  const parallel = arg('parallel', 'ddp');
  setBackend(arg('backend', 'native') as 'native' | 'reference', { threads: Number(arg('threads', '1')) });
  const copy = arg('copy', 'readInto');
  // Shadows the backend's readInto: GradReducer then copies as it did before the method existed.
  if (copy === 'toArray') Object.defineProperty(getBackend(), 'readInto', { value: undefined });
  const model = createModel(arch, { numClasses: 1000, inputSize, rng: new Generator(1) });
  const params = model.parameters();
  const sgd = new SGD(params, { lr: 0.001, momentum: 0.9 });
  const dp: ParallelTraining & { reducer: { lastBuckets: number } } =
    parallel === 'hybrid' ? new HybridParallel(comm, model, sgd, 1, gradDtype) : new DataParallel(comm, model, params, 1, gradDtype);
  await dp.broadcastWeights();
  const rng = new Generator(2 + comm.rank);
  const x = new Float32Array(batch * 3 * inputSize * inputSize).map(() => rng.normal());
  const y = Int32Array.from({ length: batch }, (_, i) => (i * 37 + comm.rank) % 1000);
  const indices = Int32Array.from({ length: batch }, (_, i) => comm.rank * batch + i);
  const shape = [batch, 3, inputSize, inputSize];
  const times: number[] = [];
  const waits: number[] = [];
  model.train();
  for (let s = 0; s <= steps; s++) {
    await comm.barrier();
    const t0 = performance.now();
    if (plain) {
      tidy(() => {
        const loss = crossEntropy(model.forward(Tensor.fromArray(x, shape)), y);
        loss.item();
        loss.backward();
        sgd.step();
        for (const b of sgd.stateDict().buffers) if (b) keep(b);
        sgd.zeroGrad();
      });
      waits.push(0);
    } else {
      const r = await dp.step(sgd, x, shape, y, indices, 0, false);
      waits.push(r.commWaitS);
    }
    // The first step (allocation, oneDNN's kernel choice) is not counted.
    if (s > 0) times.push((performance.now() - t0) / 1000);
  }
  waits.shift();
  const mean = (a: number[]): number => a.reduce((p, q) => p + q, 0) / Math.max(a.length, 1);
  const stepS = mean(times);
  if (comm.primary)
    console.log(
      JSON.stringify({
        mode,
        size: comm.size,
        plain,
        gradDtype,
        parallel,
        copy,
        arch,
        batch,
        inputSize,
        threads: Number(arg('threads', '1')),
        stepS,
        imgPerS: (batch * comm.size) / stepS,
        commWaitS: mean(waits),
        buckets: dp.reducer.lastBuckets,
        params: model.parameterCount(),
      }),
    );
}

if (mode === 'allreduce') await allreduceBandwidth();
else await train();
comm.finish();
