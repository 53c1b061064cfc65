// `alexnet bench --arch NAME --batch N --mode infer|train --precision f32|bf16|f16|int8 [--threads T] [--json]`:
// median images/s of AlexNet inference or training steps after warm-up on the native backend (or
// the one ALEXNET_BACKEND names: f16 is the webgpu backend's);
// int8 (inference only) times a quantized model (--weights M, or a random one: src/quant/bench_int8.ts).
// `--preset d2l` times the textbook's Fashion-MNIST model instead (see `alexnet train --preset d2l`).
import { CLASSIFIER_PRECISIONS, PRECISIONS, type ClassifierPrecision, type Precision } from '../../backend/backend.js';
import type { Command } from 'commander';
import { defaultBackendName } from '../../backend/registry.js';
import { UsageError } from '../../errors.js';
import type { ArchName } from '../../models/index.js';
import { runModelBench, type BenchMode } from '../../bench/model_bench.js';
import { runInt8Bench } from '../../quant/bench_int8.js';
import { CLASSIFIER_PRECISION_HELP } from '../classifier_precision.js';
import { parseArch, parseChoice, parsePositiveInt } from '../args.js';

interface BenchFlags {
  arch?: ArchName;
  preset?: 'd2l';
  batch: number;
  mode: BenchMode;
  precision: Precision | 'int8';
  classifierPrecision?: ClassifierPrecision;
  weights?: string;
  threads?: number;
  iters: number;
  warmup: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('measure AlexNet inference or training throughput (median img/s after warm-up)')
    .option('--arch <name>', 'alexnet | alexnet-v1 | alexnet-2012 (required unless --preset)', parseArch)
    .option(
      '--preset <name>',
      "d2l: the textbook's Fashion-MNIST model (alexnet-v1 layers, 1×224×224, 10 classes) with plain SGD",
      parseChoice(['d2l'] as const),
    )
    .option('--batch <n>', 'batch size', parsePositiveInt, 64)
    .option('--mode <mode>', 'infer | train', parseChoice(['infer', 'train'] as const), 'infer')
    .option(
      '--precision <p>',
      'f32 | bf16 (native) | f16 (webgpu: f16 weights) | int8 (int8: inference of a quantized model)',
      parseChoice([...PRECISIONS, 'int8'] as const),
      'f32',
    )
    .option('--weights <file>', 'int8 only: the quantized model to time (default: a random model quantized on random images)')
    .option('--classifier-precision <p>', CLASSIFIER_PRECISION_HELP, parseChoice(CLASSIFIER_PRECISIONS))
    .option('--threads <n>', "OpenMP threads (default: the machine's cores)", parsePositiveInt)
    .option('--iters <n>', 'timed iterations (the median is reported)', parsePositiveInt, 5)
    .option('--warmup <n>', 'untimed iterations first', parsePositiveInt, 2)
    .option('--json', 'print one JSON object')
    .action(async (flags: BenchFlags) => {
      if (flags.weights && flags.precision !== 'int8')
        throw new UsageError('--weights is for --precision int8 (other precisions time random weights)');
      if (!flags.arch && !flags.preset && !flags.weights) throw new UsageError('bench needs --arch NAME (or --preset d2l)');
      if (flags.arch && flags.preset) throw new UsageError('--preset d2l fixes the model: leave --arch out');
      if (flags.precision === 'int8' && flags.mode !== 'infer')
        throw new UsageError('--precision int8 runs inference only: use --mode infer');
      if (flags.classifierPrecision && flags.classifierPrecision !== 'f32' && (flags.mode !== 'infer' || flags.precision === 'int8'))
        throw new UsageError('--classifier-precision is for f32 or bf16 inference: use --mode infer and --precision f32 or bf16');
      const precision = flags.precision;
      const r =
        precision === 'int8'
          ? await runInt8Bench({
              arch: flags.arch ?? 'alexnet-v1',
              preset: flags.preset,
              weights: flags.weights,
              batch: flags.batch,
              threads: flags.threads,
              iters: flags.iters,
              warmup: flags.warmup,
            })
          : runModelBench({
              arch: flags.arch ?? 'alexnet-v1',
              preset: flags.preset,
              batch: flags.batch,
              mode: flags.mode,
              precision,
              backend: defaultBackendName(),
              classifierPrecision: flags.classifierPrecision,
              threads: flags.threads,
              iters: flags.iters,
              warmup: flags.warmup,
            });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(
        `${r.preset ? `${r.preset} (${r.arch})` : r.arch} ${r.mode} batch ${r.batch} ${r.precision}` +
          `${'classifier_precision' in r && r.classifier_precision ? ` (classifier ${r.classifier_precision})` : ''} on ${r.backend} (${r.threads} threads): ` +
          `${r.img_per_s.toFixed(1)} img/s, ${r.ms_per_iter.toFixed(1)} ms per iteration\n`,
      );
    });
}
