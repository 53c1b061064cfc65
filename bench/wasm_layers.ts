// Per-layer speed of the WebAssembly kernels alone (no backend, no thread pool), one thread in Node:
// torchvision AlexNet's convolutions (fused bias + ReLU, weights packed ahead as the backend keeps
// them; conv2–5 also as inference runs them, Winograd F(2×2, 5×5) and F(2×2, 3×3), whose GFLOP/s
// count the direct method's flops, and which "all layers" counts instead of the direct rows), max
// pools and linear layers, forward, at batch 1 and 16, on the plain and the relaxed-SIMD (FMA) builds. Reports GFLOP/s from the process's
// CPU time (steadier than wall time on a busy machine) and from wall time; the median of the timed
// runs. Then each layer's two-thread split: thread 0's and thread 1's parts run one after the other
// on this thread, so the columns show how evenly the work is cut and how much the cut adds (packing
// done twice) without the two threads' contention for memory or the pool's hand-offs.
//   node dist/bench/wasm_layers.js [--quick]
import { setFlagsFromString } from 'node:v8';
import { convGeometry } from '../src/backend/conv_util.js';
import { KernelHarness, relaxedSimdAvailable, type KernelFile } from '../test/wasm_kernels_harness.js';

/** One call of a layer's kernel as thread `tid` of `nthreads`. */
type Call = (tid: number, nthreads: number) => void;

interface Layer {
  name: string;
  /** Timed for comparison but left out of "all layers" (inference runs another path for it). */
  replaced?: boolean;
  flops: (n: number) => number;
  /** Scratch for up to this many threads. */
  prepare: (h: KernelHarness, n: number, threads: number) => Call;
}

const SPLIT = 2;

function conv(name: string, c: number, size: number, oc: number, k: number, stride: number, pad: number): Layer {
  return {
    name,
    flops: (n) => {
      const g = convGeometry([n, c, size, size], [oc, c, k, k], [stride, stride], [pad, pad], 1);
      return 2 * n * oc * g.oh * g.ow * c * k * k;
    },
    prepare: (h, n, threads) => {
      const g = convGeometry([n, c, size, size], [oc, c, k, k], [stride, stride], [pad, pad], 1);
      const geom = h.geometry(g);
      const x = h.put(new Float32Array(n * c * size * size).map((_, i) => Math.sin(i)));
      const w = h.put(new Float32Array(oc * c * k * k).map((_, i) => Math.cos(i) * 0.01));
      const b = h.put(new Float32Array(oc));
      const y = h.alloc(n * oc * g.oh * g.ow * 4);
      const s = h.allocScratch(h.fn('conv2d_forward_scratch_bytes')(geom, threads));
      // The weights packed ahead, as the backend keeps them (packing is not timed).
      const pw = h.alloc(h.fn('conv2d_packed_weights_bytes')(geom));
      h.fn('conv2d_pack_weights')(w, pw, geom, 0, 1);
      const f = h.fn('conv2d_forward');
      return (tid, nthreads) => f(x, w, pw, b, y, geom, 1, s, tid, nthreads);
    },
  };
}

/** A k×k stride-1 convolution as inference runs it: Winograd F(2×2, k×k), weights transformed ahead. */
function winograd(name: string, c: number, size: number, oc: number, k: number, pad: number): Layer {
  const geometry = (n: number) => convGeometry([n, c, size, size], [oc, c, k, k], [1, 1], [pad, pad], 1);
  return {
    name,
    flops: (n) => 2 * n * oc * size * size * c * k * k, // the direct method's, so that GFLOP/s compare
    prepare: (h, n, threads) => {
      const g = geometry(n);
      const geom = h.geometry(g);
      const x = h.put(new Float32Array(n * c * size * size).map((_, i) => Math.sin(i)));
      const w = h.put(new Float32Array(oc * c * k * k).map((_, i) => Math.cos(i) * 0.01));
      const b = h.put(new Float32Array(oc));
      const y = h.alloc(n * oc * g.oh * g.ow * 4);
      const u = h.alloc(h.fn('conv2d_winograd_weights_bytes')(geom));
      const us = h.allocScratch(h.fn('conv2d_winograd_pack_scratch_bytes')(geom, 1));
      h.fn('conv2d_winograd_pack_weights')(w, u, us, geom, 0, 1);
      const s = h.allocScratch(h.fn('conv2d_winograd_scratch_bytes')(geom, threads));
      const f = h.fn('conv2d_winograd_forward');
      return (tid, nthreads) => f(x, u, b, y, geom, 1, s, tid, nthreads);
    },
  };
}

function linear(name: string, k: number, n: number): Layer {
  return {
    name,
    flops: (m) => 2 * m * k * n,
    prepare: (h, m, threads) => {
      const x = h.put(new Float32Array(m * k).map((_, i) => Math.sin(i)));
      const w = h.put(new Float32Array(n * k).map((_, i) => Math.cos(i) * 0.01));
      const b = h.put(new Float32Array(n));
      const y = h.alloc(m * n * 4);
      const s = h.allocScratch(h.fn('linear_forward_scratch_bytes')(m, k, n, threads));
      const f = h.fn('linear_forward');
      return (tid, nthreads) => f(x, w, b, y, m, k, n, 1, s, tid, nthreads);
    },
  };
}

/** 3×3/2 max pooling for inference (no indices), c planes of size × size. */
function maxPool(name: string, c: number, size: number): Layer {
  return {
    name,
    flops: () => 0,
    prepare: (h, n) => {
      const out = Math.floor((size - 3) / 2) + 1;
      const x = h.put(new Float32Array(n * c * size * size).map((_, i) => Math.sin(i)));
      const y = h.alloc(n * c * out * out * 4);
      const geom = h.alloc(14 * 4); // PoolGeometry's order: n c h w kh kw oh ow sh sw ph pw pb pr
      new Int32Array(h.memory.buffer, geom, 14).set([n, c, size, size, 3, 3, out, out, 2, 2, 0, 0, 0, 0]);
      const f = h.fn('max_pool_forward_f32');
      return (tid, nthreads) => f(x, y, 0, geom, tid, nthreads);
    },
  };
}

const LAYERS: Layer[] = [
  conv('conv1 11×11/4', 3, 224, 64, 11, 4, 2),
  maxPool('pool1 3×3/2', 64, 55),
  { ...conv('conv2 5×5', 64, 27, 192, 5, 1, 2), replaced: true },
  winograd('conv2 Winograd', 64, 27, 192, 5, 2),
  maxPool('pool2 3×3/2', 192, 27),
  { ...conv('conv3 3×3', 192, 13, 384, 3, 1, 1), replaced: true },
  { ...conv('conv4 3×3', 384, 13, 256, 3, 1, 1), replaced: true },
  { ...conv('conv5 3×3', 256, 13, 256, 3, 1, 1), replaced: true },
  winograd('conv3 Winograd', 192, 13, 384, 3, 1),
  winograd('conv4 Winograd', 384, 13, 256, 3, 1),
  winograd('conv5 Winograd', 256, 13, 256, 3, 1),
  maxPool('pool5 3×3/2', 256, 13),
  linear('fc6', 9216, 4096),
  linear('fc7', 4096, 4096),
  linear('fc8', 4096, 1000),
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median CPU and wall milliseconds of one run. */
function measure(run: () => void, iters: number): { cpu: number; wall: number } {
  run();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < iters; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { cpu: median(cpu), wall: median(wall) };
}

const gflops = (flops: number, ms: number) => (flops > 0 ? (flops / ms / 1e6).toFixed(1) : '—');

function main(): void {
  const quick = process.argv.includes('--quick');
  // Optimised code from the start: with V8's dynamic tiering the first layer timed would run on the
  // baseline compiler's code until its optimised version arrives (conv1 showed 17 GFLOP/s so).
  setFlagsFromString('--no-wasm-dynamic-tiering');
  const files: KernelFile[] = relaxedSimdAvailable() ? ['alexnet.wasm', 'alexnet_relaxed.wasm'] : ['alexnet.wasm'];
  const lines = [
    `| build | batch | layer | ms (CPU) | GFLOP/s (CPU) | GFLOP/s (wall) | ${SPLIT} threads: each thread's part (ms, CPU) | parts / 1 thread |`,
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const file of files) {
    for (const n of [1, 16]) {
      const h = new KernelHarness(file);
      let total = 0;
      let slowest = 0;
      let flops = 0;
      for (const layer of LAYERS) {
        h.reset();
        const call = layer.prepare(h, n, SPLIT);
        const iters = quick ? 2 : n === 1 ? 9 : 3;
        const t = measure(() => call(0, 1), iters);
        const parts = Array.from({ length: SPLIT }, (_, tid) => measure(() => call(tid, SPLIT), iters).cpu);
        const f = layer.flops(n);
        if (!layer.replaced) {
          total += t.cpu;
          slowest += Math.max(...parts);
          flops += f;
        }
        const sum = parts.reduce((a, b) => a + b, 0);
        lines.push(
          `| ${file} | ${n} | ${layer.name} | ${t.cpu.toFixed(2)} | ${gflops(f, t.cpu)} | ${gflops(f, t.wall)} | ${parts.map((p) => p.toFixed(2)).join(' + ')} | ${(sum / t.cpu).toFixed(2)} |`,
        );
      }
      lines.push(
        `| ${file} | ${n} | **all layers** | **${total.toFixed(1)}** | ${gflops(flops, total)} | | slowest parts: **${slowest.toFixed(1)}** (${(total / slowest).toFixed(2)}× one thread) | |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
