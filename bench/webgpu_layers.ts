// Per-layer speed of the WGSL kernels alone (src/backend/webgpu/kernels, no backend), through Dawn in
// Node on its first adapter (SwiftShader, a CPU Vulkan driver, when VK_ICD_FILENAMES is unset): AlexNet's
// convolutions (torchvision's, and alexnet-2012's two-tower conv2 with groups 2 on 227×227) and linear
// layers, forward with fused bias + ReLU at batch 1 and 32 (with --f16 also with f16 weights: the
// adapter's variant, packed on SwiftShader), and with --backward the two gradients at batch 32. Each
// timing records `reps` dispatches into one submission and waits for the queue; reports the median
// milliseconds per dispatch and GFLOP/s.
//   node dist/bench/webgpu_layers.js [--quick] [--backward] [--f16] [--batch 1,32] [--layers fc,conv3]
import type { ConvGeometry, LinearGeometry } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import type { KernelContext } from '../src/backend/webgpu/kernel_context.js';
import { conv2d, conv2dBackwardData, conv2dBackwardWeights } from '../src/backend/webgpu/kernels/conv.js';
import { f16Bytes, packF16 } from '../src/backend/webgpu/kernels/f16.js';
import { linear, linearBackwardData, linearBackwardWeights } from '../src/backend/webgpu/kernels/linear.js';
import { openContext, random, upload } from '../test/webgpu_kernels_helpers.js';

type Pass = 'forward' | 'forward f16' | 'backward data' | 'backward weights';

interface Layer {
  readonly name: string;
  /** The recorder of one dispatch of `pass` at batch `n`, and its FLOPs. */
  prepare(ctx: KernelContext, n: number, pass: Pass): { run: () => void; flops: number; free: () => void };
}

function buffers(ctx: KernelContext, sizes: readonly number[]): GPUBuffer[] {
  return sizes.map((s, i) => upload(ctx, random(s, i + 1)));
}

/** The f16 copy of `count` weights in `w` (made before any timing). */
function f16Copy(ctx: KernelContext, w: GPUBuffer, count: number): GPUBuffer {
  const half = ctx.buffer(f16Bytes(count));
  packF16(ctx, [w, half], { n: count });
  ctx.flush();
  return half;
}

function conv(name: string, c: number, size: number, oc: number, k: number, stride: number, pad: number, groups = 1): Layer {
  return {
    name,
    prepare(ctx, n, pass) {
      const g: ConvGeometry = convGeometry([n, c, size, size], [oc, c / groups, k, k], [stride, stride], [pad, pad], groups);
      const [x, w, b, y] = buffers(ctx, [n * c * size * size, oc * (c / groups) * k * k, oc, n * oc * g.oh * g.ow]);
      const half = pass === 'forward f16' ? f16Copy(ctx, w!, oc * (c / groups) * k * k) : null;
      const flops = (2 * n * oc * g.oh * g.ow * c * k * k) / groups;
      const run =
        pass === 'forward'
          ? () => conv2d(ctx, x!, w!, b!, y!, g, true)
          : half
            ? () => conv2d(ctx, x!, half, b!, y!, g, true, ctx.weightFormat(true))
            : pass === 'backward data'
              ? () => conv2dBackwardData(ctx, y!, w!, x!, g)
              : () => conv2dBackwardWeights(ctx, y!, x!, w!, b!, g);
      return { run, flops, free: () => [x, w, b, y, half].forEach((t) => t?.destroy()) };
    },
  };
}

function fc(name: string, k: number, outputs: number): Layer {
  return {
    name,
    prepare(ctx, m, pass) {
      const g: LinearGeometry = { m, k, n: outputs };
      const [x, w, b, y] = buffers(ctx, [m * k, outputs * k, outputs, m * outputs]);
      const half = pass === 'forward f16' ? f16Copy(ctx, w!, outputs * k) : null;
      const run =
        pass === 'forward'
          ? () => linear(ctx, x!, w!, b!, y!, g, true)
          : half
            ? () => linear(ctx, x!, half, b!, y!, g, true, ctx.weightFormat(true))
            : pass === 'backward data'
              ? () => linearBackwardData(ctx, y!, w!, x!, g)
              : () => linearBackwardWeights(ctx, y!, x!, w!, b!, g);
      return { run, flops: 2 * m * k * outputs, free: () => [x, w, b, y, half].forEach((t) => t?.destroy()) };
    },
  };
}

const LAYERS: readonly Layer[] = [
  conv('conv1 11×11/4 (224)', 3, 224, 64, 11, 4, 2),
  conv('conv2 5×5', 64, 27, 192, 5, 1, 2),
  conv('conv3 3×3', 192, 13, 384, 3, 1, 1),
  conv('conv4 3×3', 384, 13, 256, 3, 1, 1),
  conv('conv5 3×3', 256, 13, 256, 3, 1, 1),
  conv('2012 conv2 5×5 groups 2', 96, 27, 256, 5, 1, 2, 2),
  fc('fc6', 9216, 4096),
  fc('fc7', 4096, 4096),
  fc('fc8', 4096, 1000),
];

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/**
 * Median wall and CPU milliseconds of one dispatch: `reps` recorded into one submission, timed to
 * queue completion. The CPU time is the process's (SwiftShader's threads run inside it): steadier
 * than wall time on a busy machine, and the measure of a CPU adapter's work.
 */
async function measure(ctx: KernelContext, run: () => void, reps: number, samples: number): Promise<{ wall: number; cpu: number }> {
  const once = async (count: number): Promise<{ wall: number; cpu: number }> => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) run();
    ctx.flush();
    await ctx.device.queue.onSubmittedWorkDone();
    const c = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / count, cpu: (c.user + c.system) / 1000 / count };
  };
  await once(1); // compiles the pipeline and warms up
  const times: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < samples; i++) times.push(await once(reps));
  return { wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)) };
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const forward: Pass[] = process.argv.includes('--f16') ? ['forward', 'forward f16'] : ['forward'];
  const passes: Pass[] = process.argv.includes('--backward') ? ['backward data', 'backward weights'] : forward;
  const batches = (option('--batch') ?? '1,32').split(',').map(Number);
  const only = option('--layers')?.split(',');
  const layers = only ? LAYERS.filter((l) => only.some((name) => l.name.startsWith(name))) : LAYERS;
  const opened = await openContext();
  if ('reason' in opened) throw new Error(opened.reason);
  const { ctx } = opened;
  const lines = [
    `adapter: ${opened.adapter}${quick ? ' (quick)' : ''}${forward.length > 1 ? `, f16 weights ${ctx.weightFormat(true)}` : ''}`,
    '| pass | batch | layer | ms (wall) | ms (CPU) | GFLOP/s (wall) | GFLOP/s (CPU) |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const pass of passes) {
    for (const n of batches) {
      let wall = 0;
      let cpu = 0;
      for (const layer of layers) {
        const { run, flops, free } = layer.prepare(ctx, n, pass);
        const t = await measure(ctx, run, quick ? 1 : 3, quick ? 2 : 5);
        free();
        wall += t.wall;
        cpu += t.cpu;
        const gflops = (ms: number): string => (flops / ms / 1e6).toFixed(2);
        lines.push(
          `| ${pass} | ${n} | ${layer.name} | ${t.wall.toFixed(1)} | ${t.cpu.toFixed(1)} | ${gflops(t.wall)} | ${gflops(t.cpu)} |`,
        );
        process.stderr.write(`${lines[lines.length - 1]}\n`);
      }
      lines.push(`| ${pass} | ${n} | **all layers** | **${wall.toFixed(1)}** | **${cpu.toFixed(1)}** | | |`);
    }
  }
  opened.close();
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
