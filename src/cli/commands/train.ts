// `alexnet train [DATA]`: train an AlexNet on an image folder (DATA/train, DATA/val), a prepared
// file, or Fashion-MNIST (--dataset fashion-mnist, the Quick start), with the paper's or
// torchvision's recipe; --resume RUN_DIR|CHECKPOINT continues a run exactly where it stopped.
// The options come from the table in src/train/options.ts; the training code loads when the
// command runs.
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { helpText, TRAIN_OPTIONS, type OptionChoices } from '../../train/options.js';
import { RECIPES } from '../../train/recipes.js';
import type { StartFlags } from '../../train/start.js';
import { parseChoice } from '../args.js';

/** The command's own options that --resume accepts (besides the table's resumable ones). */
const RESUME_FLAGS = new Set(['--resume', '--out']);

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train an AlexNet (image folder DATA/{train,val}, a prepared file, or --dataset fashion-mnist)')
    .argument('[data]', 'dataset folder with train/ and val/ (or a prepared file)')
    .option('--dataset <name>', "fashion-mnist or fashion-mnist=DIR (IDX files; default Debian's /usr/share/datasets/fashion-mnist)")
    .option('--train <dir>', 'training image folder or prepared file')
    .option('--val <dir>', 'validation image folder or prepared file')
    .option(
      '--recipe <name>',
      "paper | torchvision (default: torchvision's; the quick start for Fashion-MNIST)",
      parseChoice(['paper', 'torchvision'] as const),
    )
    .option(
      '--preset <name>',
      `d2l: the textbook Fashion-MNIST run (${RECIPES.d2l.arch}, ${RECIPES.d2l.inputSize(RECIPES.d2l.arch)} input, lr ${RECIPES.d2l.lr}, batch ${RECIPES.d2l.batchSize}, ${RECIPES.d2l.epochs} epochs)`,
      parseChoice(['d2l'] as const),
    )
    .option('--grayscale', 'decode images as one channel (Fashion-MNIST is one channel already)')
    .option('--out <dir>', 'run directory (default runs/<arch>-<data>-<time>)')
    .option('--resume <path>', 'continue a run: its RUN_DIR or a checkpoint file');
  const table = TRAIN_OPTIONS.flatMap((o) => {
    if (!o.flag) return [];
    const option = new Option(o.flag, helpText(o));
    if (o.parse) option.argParser<unknown>(o.parse);
    cmd.addOption(option);
    return [{ spec: o, option }];
  });
  cmd.action(async (data: string | undefined, flags: StartFlags) => {
    const chosen: OptionChoices = {};
    for (const { spec, option } of table) {
      const value: unknown = cmd.getOptionValue(option.attributeName());
      if (value !== undefined) (chosen as Record<string, unknown>)[spec.key] = value;
    }
    if (flags.resume) {
      const resumable = new Set([...RESUME_FLAGS, ...table.filter((t) => t.spec.resumable).map((t) => t.option.long)]);
      const given = cmd.options.filter((o) => cmd.getOptionValueSource(o.attributeName()) === 'cli' && !resumable.has(o.long));
      if (data || given.length)
        throw new UsageError(`--resume continues the run with its own settings; drop ${data ? 'DATA' : given[0]?.long}`);
    }
    const { startTraining } = await import('../../train/start.js');
    process.exitCode = await startTraining(data, flags, chosen);
  });
}
