// `alexnet eval --weights FILE|torchvision --data DIR [--ten-crop] [--json]`: top-1/top-5 error,
// per-class accuracy and the confusion matrix (CSV and PNG) of a model on a labelled image folder,
// a prepared file, or Fashion-MNIST's test split. The output folder is checked before any work;
// the files are written atomically with rounded numbers.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CLASSIFIER_PRECISIONS, PRECISIONS, type ClassifierPrecision, type Precision } from '../../backend/backend.js';
import { BACKEND_NAMES, defaultBackendName, setBackend, type BackendName } from '../../backend/registry.js';
import { BrokenInputLog, DataLoader, IdxDataset, ImageFolder, PreparedDataset, type Dataset } from '../../data/index.js';
import { DataError, UsageError } from '../../errors.js';
import { resolveWeightsArg, WEIGHTS_NAME_LIST } from '../../io/pretrained.js';
import type { ArchName } from '../../models/index.js';
import { loadModelFile } from '../../quant/load.js';
import { materialize, resolveDataSpec, tenCropTransforms } from '../../train/data.js';
import { ensureOutputDir, writeFileAtomic } from '../../io/write_atomic.js';
import { evaluate } from '../../train/evaluate.js';
import { roundFraction, roundSignificant } from '../../train/metrics.js';
import { printable } from '../../train/model_json.js';
import { confusionPlot } from '../../train/plots.js';
import { classNamesFor, evalTransformsFor } from '../../train/predict.js';
import { CLASSIFIER_PRECISION_HELP, checkClassifierPrecision } from '../classifier_precision.js';
import { parseArch, parseChoice, parsePositiveInt, parseWorkers } from '../args.js';

interface EvalFlags {
  weights: string;
  data?: string;
  dataset?: string;
  arch?: ArchName;
  tenCrop?: boolean;
  json?: boolean;
  batchSize?: number;
  workers?: number;
  out: string;
  backend?: BackendName;
  precision: Precision;
  classifierPrecision?: ClassifierPrecision;
  strict?: boolean;
}

function openEvalData(flags: EvalFlags, channels: 1 | 3, broken: BrokenInputLog): { dataset: Dataset; name: string } {
  if (flags.dataset) {
    const spec = resolveDataSpec({ dataset: flags.dataset });
    if (spec.kind !== 'fashion-mnist') throw new UsageError(`--dataset ${flags.dataset}: unknown dataset`);
    return { dataset: IdxDataset.fashionMnist('test', spec.dir), name: 'fashion-mnist (test split)' };
  }
  const path = flags.data as string;
  if (!existsSync(path)) throw new DataError(`${path}: no such dataset folder or prepared file`);
  if (statSync(path).isDirectory()) return { dataset: ImageFolder.open(path, { channels, broken }), name: path };
  return { dataset: new PreparedDataset(path), name: path };
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model: top-1/top-5 error, per-class accuracy, confusion matrix')
    .requiredOption(
      '--weights <file>',
      `model weights (.pth, .safetensors, a training checkpoint, or an int8 model from alexnet quantize), or ${WEIGHTS_NAME_LIST.join(' | ')}`,
    )
    .option('--data <dir>', 'labelled image folder (DIR/<class>/<image>) or prepared file')
    .option('--dataset <name>', 'fashion-mnist[=DIR]: its test split')
    .option('--arch <name>', 'architecture (default: from the weights)', parseArch)
    .option('--ten-crop', 'average softmax over ten crops (4 corners + center, and flips)')
    .option('--json', 'print the results as JSON')
    .option('--batch-size <n>', 'images per forward pass (default 64)', parsePositiveInt)
    .option('--workers <n>', 'data-loading worker threads (default 2)', parseWorkers)
    .option('--backend <name>', BACKEND_NAMES.join(' | '), parseChoice(BACKEND_NAMES))
    .option('--precision <p>', 'f32 | bf16 (native backend) | f16 (webgpu backend: f16 weights)', parseChoice(PRECISIONS), 'f32')
    .option('--classifier-precision <p>', CLASSIFIER_PRECISION_HELP, parseChoice(CLASSIFIER_PRECISIONS))
    .option('--strict', 'stop at the first broken image instead of skipping it')
    .option('--out <dir>', 'where to write eval.json, per_class.csv, confusion_matrix.csv/.png', 'alexnet-eval')
    .action(async (flags: EvalFlags) => {
      if (!flags.data === !flags.dataset) throw new UsageError('give exactly one of --data DIR and --dataset fashion-mnist');
      ensureOutputDir(flags.out);
      setBackend(flags.backend ?? defaultBackendName(), { precision: flags.precision, classifierPrecision: flags.classifierPrecision });
      const weights = await resolveWeightsArg(flags.weights, flags.arch);
      checkClassifierPrecision(weights, flags.classifierPrecision);
      const { model, info, meanImage } = loadModelFile(weights, flags.arch);
      const broken = new BrokenInputLog({ strict: flags.strict });
      const { dataset, name } = openEvalData(flags, info.inChannels === 1 ? 1 : 3, broken);
      const modelClasses = classNamesFor(info);
      // Folder labels → model outputs: by class name when the model knows its names, else by position.
      let labelMap: Int32Array | undefined;
      if (dataset.classes.every((c) => modelClasses.includes(c)) && dataset.classes.join('\n') !== modelClasses.join('\n')) {
        labelMap = Int32Array.from(dataset.classes, (c) => modelClasses.indexOf(c));
      } else if (dataset.classes.length > info.numClasses) {
        throw new DataError(
          `${name}: ${dataset.classes.length} classes, but the model has ${info.numClasses} outputs and its class names do not cover them`,
        );
      }
      if (dataset.classes.length !== info.numClasses)
        process.stderr.write(
          `warning: the model has ${info.numClasses} classes and the data has ${dataset.classes.length}: ` +
            `${labelMap ? 'labels are matched to the model by class name' : "label k is taken as the model's output k"}, ` +
            `and predictions of the model's other classes count as errors\n`,
        );
      const stored = evalTransformsFor(info);
      const transforms = materialize(
        flags.tenCrop ? tenCropTransforms(stored) : stored,
        () => {
          throw new DataError(`${flags.weights}: the model subtracts a mean image, but none was found next to it`);
        },
        meanImage,
      );
      const loader = new DataLoader(dataset, {
        batchSize: flags.batchSize ?? (flags.tenCrop ? 16 : 64),
        transforms,
        workers: flags.workers ?? 2,
        broken,
      });
      const started = performance.now();
      let res;
      try {
        res = await evaluate(model, loader, modelClasses, { labelMap });
      } finally {
        await loader.close();
      }
      if (!res || res.count === 0) throw new DataError(`${name}: no image could be evaluated`);
      const seconds = (performance.now() - started) / 1000;
      const perClass = res.confusion.perClassAccuracy();
      const used = labelMap ? [...labelMap] : dataset.classes.map((_, i) => i);
      const result = {
        weights: flags.weights,
        data: name,
        arch: info.arch,
        images: res.count,
        ten_crop: flags.tenCrop ?? false,
        top1_error: roundFraction(1 - res.top1),
        top5_error: roundFraction(1 - res.top5),
        top1: roundFraction(res.top1),
        top5: roundFraction(res.top5),
        loss: roundSignificant(res.loss),
        per_class: used.map((k) => {
          const accuracy = perClass[k] ?? NaN;
          return { class: modelClasses[k] ?? String(k), accuracy: Number.isNaN(accuracy) ? null : roundFraction(accuracy) };
        }),
        skipped: broken.count,
        seconds: Math.round(seconds * 10) / 10,
      };
      const text = (s: string) => [Buffer.from(s)];
      writeFileAtomic(join(flags.out, 'eval.json'), text(JSON.stringify(result, null, 2) + '\n'));
      writeFileAtomic(
        join(flags.out, 'per_class.csv'),
        text('class,accuracy\n' + result.per_class.map((p) => `"${p.class.replace(/"/g, '""')}",${p.accuracy ?? ''}`).join('\n') + '\n'),
      );
      writeFileAtomic(join(flags.out, 'confusion_matrix.csv'), text(res.confusion.toCsv()));
      writeFileAtomic(join(flags.out, 'confusion_matrix.png'), [await confusionPlot(res.confusion.classes, res.confusion.counts)]);
      if (broken.count) process.stderr.write(broken.summary() + '\n');
      if (flags.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
        return;
      }
      process.stdout.write(`${info.arch} on ${name}: ${res.count} images${flags.tenCrop ? ' (10 crops)' : ''}\n`);
      process.stdout.write(
        `top-1 error ${(100 * result.top1_error).toFixed(2)}%  top-5 error ${(100 * result.top5_error).toFixed(2)}%  (accuracy ${(100 * res.top1).toFixed(2)}% / ${(100 * res.top5).toFixed(2)}%)\n`,
      );
      if (result.per_class.length <= 50) {
        for (const p of result.per_class)
          process.stdout.write(
            `  ${printable(p.class).padEnd(24)} ${p.accuracy === null ? '   -' : (100 * p.accuracy).toFixed(1).padStart(5) + '%'}\n`,
          );
      }
      process.stdout.write(`wrote ${join(flags.out, 'eval.json')}, per_class.csv, confusion_matrix.csv, confusion_matrix.png\n`);
    });
}
