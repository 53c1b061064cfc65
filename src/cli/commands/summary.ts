// `alexnet summary --arch NAME --input C,H,W [--batch N] [--flops]`: the torchsummary table.
import type { Command } from 'commander';
import { ShapeError, UsageError } from '../../errors.js';
import { createModel, type ArchName } from '../../models/index.js';
import { setBackend } from '../../backend/registry.js';
import { summary } from '../../summary/summary.js';
import { parseArch, parsePositiveInt, parseShape } from '../args.js';

interface SummaryFlags {
  arch: ArchName;
  input?: number[];
  batch?: number;
  flops?: boolean;
  numClasses?: number;
  fitInput?: boolean;
}

export function register(program: Command): void {
  program
    .command('summary')
    .description('print the model layer by layer, as torchsummary does')
    .requiredOption('--arch <name>', 'alexnet | alexnet-v1 | alexnet-2012', parseArch)
    .option('--input <C,H,W>', "input size (default: the architecture's own)", parseShape)
    .option('--batch <n>', "batch size to show (torchsummary's batch_size; default -1)", parsePositiveInt)
    .option('--num-classes <n>', 'number of output classes (default 1000)', parsePositiveInt)
    .option('--fit-input', 'size FC6 for the given input (alexnet-v1, alexnet-2012)')
    .option('--flops', 'add multiply-accumulates per layer and in total')
    .action((flags: SummaryFlags) => {
      // Shapes only: no kernels run, so the plain backend avoids loading the addon.
      setBackend('reference');
      const defaultSize = flags.arch === 'alexnet' ? 224 : 227;
      const input = flags.input ?? [3, defaultSize, defaultSize];
      if (flags.fitInput && input[1] !== input[2]) throw new UsageError(`--fit-input needs a square input, got ${input.join(',')}`);
      const model = createModel(flags.arch, {
        inChannels: input[0],
        numClasses: flags.numClasses,
        inputSize: flags.fitInput ? input[1] : undefined,
      });
      try {
        model.checkInput([1, ...input]);
      } catch (err) {
        // The shape comes from the options only: a shape the model cannot take is a usage error.
        if (err instanceof ShapeError) throw new UsageError(`--input ${input.join(',')}: ${err.message}`);
        throw err;
      }
      process.stdout.write(summary(model, input, { batchSize: flags.batch, flops: flags.flops }));
    });
}
