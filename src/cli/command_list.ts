// The commands of `alexnet`: the name, arguments and description that `alexnet --help` lists
// without loading anything, and the module that registers the command's options and action,
// imported only when that command runs or shows its help (sharp, vega and the models load slowly).
import type { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  /** The name and arguments as the command declares them, e.g. 'prepare <data-dir>'. */
  readonly usage: string;
  /** The command's own one-line description (test/cli_startup.test.ts checks that they agree). */
  readonly description: string;
  readonly load: () => Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    usage: 'summary',
    description: 'print the model layer by layer, as torchsummary does',
    load: () => import('./commands/summary.js'),
  },
  {
    usage: 'prepare <data-dir>',
    description: 'decode and resize an image folder (DATA_DIR/<class>/<image>) once into one file',
    load: () => import('./commands/prepare.js'),
  },
  {
    usage: 'forward',
    description: 'run a model in eval mode on an .npy batch and write the logits as .npy',
    load: () => import('./commands/forward.js'),
  },
  {
    usage: 'convert <in> <out>',
    description: 'convert weights between .pth, .safetensors and .onnx (by extension)',
    load: () => import('./commands/convert.js'),
  },
  {
    usage: 'train [data]',
    description: 'train an AlexNet (image folder DATA/{train,val}, a prepared file, or --dataset fashion-mnist)',
    load: () => import('./commands/train.js'),
  },
  {
    usage: 'eval',
    description: 'evaluate a model: top-1/top-5 error, per-class accuracy, confusion matrix',
    load: () => import('./commands/eval.js'),
  },
  {
    usage: 'predict <images...>',
    description: 'classify images: top-k classes with probabilities',
    load: () => import('./commands/predict.js'),
  },
  {
    usage: 'quantize',
    description: 'quantize a model to int8 (post-training static quantization calibrated on images)',
    load: () => import('./commands/quantize.js'),
  },
  {
    usage: 'bench',
    description: 'measure AlexNet inference or training throughput (median img/s after warm-up)',
    load: () => import('./commands/bench.js'),
  },
  {
    usage: 'serve',
    description: 'serve predictions over HTTP with dynamic batching (POST /v1/predict, /metrics, /readyz)',
    load: () => import('./commands/serve.js'),
  },
  {
    usage: 'web',
    description: 'serve the web page (classify, look inside, train in the browser) on a local server',
    load: () => import('./commands/web.js'),
  },
];

export function commandName(entry: CommandEntry): string {
  return entry.usage.split(' ')[0] ?? entry.usage;
}
