// Per-layer speed of the WebAssembly kernels alone (no backend, no thread pool), one thread in Node:
// torchvision AlexNet's convolutions (fused bias + ReLU) and linear layers, forward, at batch 1 and 16,
// on the plain and the relaxed-SIMD (FMA) builds. Reports GFLOP/s from the process's CPU time
// (steadier than wall time on a busy machine) and from wall time; the median of the timed runs.
//   node dist/bench/wasm_layers.js [--quick]
import { convGeometry } from '../src/backend/conv_util.js';
import { KernelHarness, relaxedSimdAvailable, type KernelFile } from '../test/wasm_kernels_harness.js';

interface Layer {
  name: string;
  flops: (n: number) => number;
  prepare: (h: KernelHarness, n: number) => () => void;
}

function conv(name: string, c: number, size: number, oc: number, k: number, stride: number, pad: number): Layer {
  return {
    name,
    flops: (n) => {
      const g = convGeometry([n, c, size, size], [oc, c, k, k], [stride, stride], [pad, pad], 1);
      return 2 * n * oc * g.oh * g.ow * c * k * k;
    },
    prepare: (h, n) => {
      const g = convGeometry([n, c, size, size], [oc, c, k, k], [stride, stride], [pad, pad], 1);
      const geom = h.geometry(g);
      const x = h.put(new Float32Array(n * c * size * size).map((_, i) => Math.sin(i)));
      const w = h.put(new Float32Array(oc * c * k * k).map((_, i) => Math.cos(i) * 0.01));
      const b = h.put(new Float32Array(oc));
      const y = h.alloc(n * oc * g.oh * g.ow * 4);
      const s = h.allocScratch(h.fn('conv2d_forward_scratch_bytes')(geom, 1));
      const f = h.fn('conv2d_forward');
      return () => f(x, w, b, y, geom, 1, s, 0, 1);
    },
  };
}

function linear(name: string, k: number, n: number): Layer {
  return {
    name,
    flops: (m) => 2 * m * k * n,
    prepare: (h, m) => {
      const x = h.put(new Float32Array(m * k).map((_, i) => Math.sin(i)));
      const w = h.put(new Float32Array(n * k).map((_, i) => Math.cos(i) * 0.01));
      const b = h.put(new Float32Array(n));
      const y = h.alloc(m * n * 4);
      const s = h.allocScratch(h.fn('linear_forward_scratch_bytes')(m, k, n, 1));
      const f = h.fn('linear_forward');
      return () => f(x, w, b, y, m, k, n, 1, s, 0, 1);
    },
  };
}

const LAYERS: Layer[] = [
  conv('conv1 11×11/4', 3, 224, 64, 11, 4, 2),
  conv('conv2 5×5', 64, 27, 192, 5, 1, 2),
  conv('conv3 3×3', 192, 13, 384, 3, 1, 1),
  conv('conv4 3×3', 384, 13, 256, 3, 1, 1),
  conv('conv5 3×3', 256, 13, 256, 3, 1, 1),
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

function main(): void {
  const quick = process.argv.includes('--quick');
  const files: KernelFile[] = relaxedSimdAvailable() ? ['alexnet.wasm', 'alexnet_relaxed.wasm'] : ['alexnet.wasm'];
  const lines = ['| build | batch | layer | ms (CPU) | GFLOP/s (CPU) | GFLOP/s (wall) |', '| --- | ---: | --- | ---: | ---: | ---: |'];
  for (const file of files) {
    for (const n of [1, 16]) {
      const h = new KernelHarness(file);
      let total = 0;
      let flops = 0;
      for (const layer of LAYERS) {
        h.reset();
        const run = layer.prepare(h, n);
        const t = measure(run, quick ? 2 : n === 1 ? 9 : 3);
        const f = layer.flops(n);
        total += t.cpu;
        flops += f;
        lines.push(
          `| ${file} | ${n} | ${layer.name} | ${t.cpu.toFixed(1)} | ${(f / t.cpu / 1e6).toFixed(1)} | ${(f / t.wall / 1e6).toFixed(1)} |`,
        );
      }
      lines.push(`| ${file} | ${n} | **all layers** | **${total.toFixed(1)}** | ${(flops / total / 1e6).toFixed(1)} | |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
