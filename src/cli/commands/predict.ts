// `alexnet predict IMAGE... --weights FILE|torchvision [--arch NAME] [--topk 5] [--json]`: the
// top-k classes of each image with their probabilities. ImageNet's class names for 1000-class
// models, the checkpoint's (or model.json's) names otherwise. A .npy input is taken as already
// preprocessed.
import type { Command } from 'commander';
import { CLASSIFIER_PRECISIONS, PRECISIONS, type ClassifierPrecision, type Precision } from '../../backend/backend.js';
import { BACKEND_NAMES, defaultBackendName, setBackend, type BackendName } from '../../backend/registry.js';
import { resolveWeightsArg, WEIGHTS_NAME_LIST } from '../../io/pretrained.js';
import type { ArchName } from '../../models/index.js';
import { loadModelFile } from '../../quant/load.js';
import { predictFiles } from '../../train/predict.js';
import { CLASSIFIER_PRECISION_HELP, checkClassifierPrecision } from '../classifier_precision.js';
import { parseArch, parseChoice, parsePositiveInt } from '../args.js';

interface PredictFlags {
  weights: string;
  arch?: ArchName;
  topk: number;
  json?: boolean;
  backend?: BackendName;
  precision: Precision;
  classifierPrecision?: ClassifierPrecision;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description('classify images: top-k classes with probabilities')
    .argument('<images...>', 'image files (JPEG, PNG, WebP, ...) or preprocessed .npy tensors [C, H, W]')
    .requiredOption(
      '--weights <file>',
      `model weights (.pth, .safetensors, a training checkpoint, or an int8 model from alexnet quantize), or ${WEIGHTS_NAME_LIST.join(' | ')}`,
    )
    .option('--arch <name>', 'architecture (default: from the weights)', parseArch)
    .option('--topk <k>', 'how many classes to show', parsePositiveInt, 5)
    .option('--json', 'print JSON')
    .option('--backend <name>', BACKEND_NAMES.join(' | '), parseChoice(BACKEND_NAMES))
    .option('--precision <p>', 'f32 | bf16 (native backend) | f16 (webgpu backend: f16 weights)', parseChoice(PRECISIONS), 'f32')
    .option('--classifier-precision <p>', CLASSIFIER_PRECISION_HELP, parseChoice(CLASSIFIER_PRECISIONS))
    .action(async (images: string[], flags: PredictFlags) => {
      setBackend(flags.backend ?? defaultBackendName(), { precision: flags.precision, classifierPrecision: flags.classifierPrecision });
      const weights = await resolveWeightsArg(flags.weights, flags.arch);
      checkClassifierPrecision(weights, flags.classifierPrecision);
      const { model, info, meanImage } = loadModelFile(weights, flags.arch);
      const results = await predictFiles(model, info, images, flags.topk, { meanImage });
      if (flags.json) {
        process.stdout.write(JSON.stringify(results, null, 2) + '\n');
        return;
      }
      for (const r of results) {
        process.stdout.write(`${r.image}:\n`);
        r.predictions.forEach((p, i) =>
          process.stdout.write(`  ${i + 1}. ${p.class.padEnd(30)} ${(100 * p.probability).toFixed(2).padStart(6)}%  (class ${p.index})\n`),
        );
      }
    });
}
