// The honest-baseline benchmark's parts (issue 16): the work an image costs (bench/model_cost.ts)
// against hand-counted layer shapes, the machine-limits program (bench/limits/) built and run,
// and PyTorch's side (bench/torch_bench.py): which BLAS it loaded and its per-mode JSON.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../src/backend/registry.js';
import { createModel } from '../src/models/index.js';
import { measureLimits, peakOf, type MachineLimits } from '../bench/limits/limits.js';
import { benchModel, modelCost } from '../bench/model_cost.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const python = '/usr/bin/python3';
const hasTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch, torchvision'], { encoding: 'utf8' }).status === 0;
const hasToolchain = existsSync('/usr/include/oneapi/dnnl/dnnl.hpp') && spawnSync('g++', ['--version'], { encoding: 'utf8' }).status === 0;

/** Multiply-adds of a convolution producing o×o×oc from c input channels (per group) with a k×k kernel. */
const convMacs = (o: number, oc: number, cPerGroup: number, k: number): number => o * o * oc * cPerGroup * k * k;

test('model cost: alexnet and alexnet-2012 flops and weight bytes from their layer shapes', () => {
  setBackend('reference');
  const alexnet = createModel('alexnet');
  const a = modelCost(alexnet);
  const convs = [
    convMacs(55, 64, 3, 11),
    convMacs(27, 192, 64, 5),
    convMacs(13, 384, 192, 3),
    convMacs(13, 256, 384, 3),
    convMacs(13, 256, 256, 3),
  ];
  const fcs = [9216 * 4096, 4096 * 4096, 4096 * 1000];
  assert.deepEqual(
    a.layers.map((l) => [l.name, l.flops]),
    [...convs.map((m, i) => [`conv${i + 1}`, 2 * m]), ...fcs.map((m, i) => [`fc${6 + i}`, 2 * m])],
  );
  const forward = 2 * [...convs, ...fcs].reduce((s, m) => s + m, 0);
  assert.equal(a.forwardFlops, forward);
  assert.equal(a.trainFlops, 3 * forward - 2 * convs[0]!, 'training: forward, weight gradients, input gradients but conv1');
  assert.equal(a.weightBytes, 4 * alexnet.parameterCount());
  // Two towers: grouped convolutions count each output against its group's input channels.
  const paper = modelCost(createModel('alexnet-2012'));
  assert.equal(paper.layers[1]!.flops, 2 * convMacs(27, 256, 48, 5));
  assert.equal(paper.layers[3]!.flops, 2 * convMacs(13, 384, 192, 3));
  // The d2l model: one input channel at 224, FC6 of 256·5·5, 10 classes.
  const d2l = modelCost(benchModel('d2l'));
  assert.equal(d2l.layers[0]!.flops, 2 * convMacs(54, 96, 1, 11));
  assert.equal(d2l.layers.find((l) => l.name === 'fc6')!.flops, 2 * 6400 * 4096);
  assert.equal(d2l.layers.at(-1)!.flops, 2 * 4096 * 10);
});

test('peakOf takes the faster of the instruction loop and the matmul, null where the CPU has neither', () => {
  const l = {
    f32_fma_loop_gflops: 400,
    f32_matmul_gflops: 360,
    bf16_dot_loop_gflops: 800,
    bf16_matmul_gflops: 2000,
    int8_dot_loop_gops: null,
    int8_matmul_gops: null,
  } as unknown as MachineLimits;
  assert.equal(peakOf(l, 'f32'), 400);
  assert.equal(peakOf(l, 'bf16'), 2000);
  assert.equal(peakOf(l, 'int8'), null);
});

test(
  'the limits program builds against libdnnl and measures every limit this CPU has',
  { skip: hasToolchain ? false : 'g++ or libdnnl-dev is missing' },
  () => {
    const l = measureLimits(1, true);
    assert.equal(l.threads, 1);
    assert.equal(l.quick, true);
    assert.match(l.onednn, /^\d+\.\d+\.\d+$/);
    assert.ok(l.f32_fma_loop_gflops > 0 && l.f32_matmul_gflops > 0, 'f32 limits');
    assert.ok(l.read_gbps > 0 && l.read_bytes >= 256 * 2 ** 20, 'read bandwidth over at least 256 MiB');
    assert.equal(l.bf16_dot_loop_gflops !== null, l.cpu.avx512_bf16, 'the bf16 loop runs exactly where the CPU has AVX512-BF16');
    assert.equal(l.int8_dot_loop_gops !== null, l.cpu.avx512_vnni || l.cpu.avx_vnni, 'the int8 loop runs where the CPU has VNNI');
    if (l.bf16_matmul_gflops !== null) assert.ok(l.bf16_matmul_gflops > 0 && l.bf16_matmul_impl.length > 0);
  },
);

test(
  "PyTorch's side: the BLAS it loaded, and the best of the modes asked for with each mode's numbers",
  { skip: hasTorch ? false : 'python3-torch is not installed' },
  () => {
    const blas = spawnSync(python, ['bench/torch_bench.py', '--blas'], { cwd: root, encoding: 'utf8' });
    assert.equal(blas.status, 0, blas.stderr);
    const info = JSON.parse(blas.stdout) as { kind: string; libraries: string[] };
    assert.ok(['openblas', 'mkl', 'blis', 'reference', 'unknown'].includes(info.kind), info.kind);
    if (existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3') && info.libraries.some((p) => p.includes('openblas-pthread')))
      assert.equal(info.kind, 'openblas');
    if (info.kind === 'reference') return; // the bench refuses to measure on it (exit 3)
    const r = spawnSync(python, ['bench/torch_bench.py', 'alexnet', '1', 'infer', 'f32', '1', '1', '1', '--modes', 'eager,jit_freeze'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      torch_mode: string;
      ms_per_iter: number;
      modes: Record<string, { ms_per_iter?: number; error?: string }>;
    };
    assert.deepEqual(Object.keys(out.modes).sort(), ['eager', 'jit_freeze']);
    for (const [m, t] of Object.entries(out.modes)) assert.ok(t.ms_per_iter !== undefined && t.ms_per_iter > 0, `${m}: ${t.error ?? ''}`);
    assert.equal(out.ms_per_iter, Math.min(...Object.values(out.modes).map((t) => t.ms_per_iter!)), 'the best mode is reported');
    assert.equal(out.modes[out.torch_mode]!.ms_per_iter, out.ms_per_iter);
  },
);
