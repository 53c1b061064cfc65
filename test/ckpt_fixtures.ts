// Fixtures for the checkpoint/weights/eval tests: the state-dict shapes of a small alexnet-v1
// (one input channel, 65×65 input, so FC6 takes 256 features), weights files written from them,
// and the CLI run as a child whose peak resident memory is reported back.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writePth } from '../src/io/pth/index.js';
import { root, tempDir } from './train_helpers.js';

export type Tensors = Map<string, { shape: number[]; data: Float32Array }>;

/** alexnet-v1's state-dict shapes for `inChannels` × 65 × 65 inputs and `numClasses` outputs. */
export function smallV1Shapes(numClasses = 10, inChannels = 1): [string, number[]][] {
  return [
    ['conv.0.weight', [96, inChannels, 11, 11]],
    ['conv.0.bias', [96]],
    ['conv.3.weight', [256, 96, 5, 5]],
    ['conv.3.bias', [256]],
    ['conv.6.weight', [384, 256, 3, 3]],
    ['conv.6.bias', [384]],
    ['conv.8.weight', [384, 384, 3, 3]],
    ['conv.8.bias', [384]],
    ['conv.10.weight', [256, 384, 3, 3]],
    ['conv.10.bias', [256]],
    ['fc_layer.0.weight', [4096, 256]],
    ['fc_layer.0.bias', [4096]],
    ['fc_layer.3.weight', [4096, 4096]],
    ['fc_layer.3.bias', [4096]],
    ['fc_layer.6.weight', [numClasses, 4096]],
    ['fc_layer.6.bias', [numClasses]],
  ];
}

/** Small deterministic values for `shapes` (so that logits differ between classes). */
export function tensorsFor(shapes: [string, number[]][]): Tensors {
  let s = 12345;
  return new Map(
    shapes.map(([k, shape]) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[i] = (s / 4294967296 - 0.5) * 0.02;
      }
      return [k, { shape, data }];
    }),
  );
}

/** Writes a small alexnet-v1 state dict as DIR/model.pth and returns its path. */
export function smallV1Pth(dir: string, numClasses = 10): string {
  const path = join(dir, 'model.pth');
  writePth(path, tensorsFor(smallV1Shapes(numClasses)));
  return path;
}

/** A module run before the CLI that writes its peak RSS (KiB) to $ALEXNET_TEST_RSS_FILE at exit. */
const PROBE =
  'data:text/javascript,' +
  encodeURIComponent(
    "import { writeFileSync } from 'node:fs';" +
      "process.on('exit', () => writeFileSync(process.env.ALEXNET_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)));",
  );

/** Runs the CLI (reference backend unless `env` says otherwise) and reports its peak RSS in MiB. */
export function runCliMeasured(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> & { peakMiB: number } {
  const rssFile = join(tempDir('rss'), 'rss');
  const r = spawnSync(process.execPath, ['--import', PROBE, 'bin/alexnet.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ALEXNET_BACKEND: 'reference', OMP_NUM_THREADS: '1', ...env, ALEXNET_TEST_RSS_FILE: rssFile },
    timeout: 60_000,
  });
  let peakMiB = NaN;
  try {
    peakMiB = Number(readFileSync(rssFile, 'utf8')) / 1024;
    rmSync(rssFile);
  } catch {
    // the child died before its exit handler ran (peakMiB stays NaN and the test's checks fail)
  }
  return Object.assign(r, { peakMiB });
}
