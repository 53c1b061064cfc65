// `alexnet quantize --weights W --calibrate DATA [--calibration-images 1000] [--calibrator
// minmax|percentile|entropy] --out M.safetensors`: post-training static quantization. The f32 model runs
// on the first N images of DATA (Fashion-MNIST's training split, an image folder — DIR/train when
// there is one — or a prepared file), preprocessed as for evaluation; the int8 model file is
// written atomically, and predict, eval, bench and serve load it.
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_NAMES, defaultBackendName, setBackend, type BackendName } from '../../backend/registry.js';
import { BrokenInputLog, DataLoader, IdxDataset, ImageFolder, PreparedDataset, type Dataset } from '../../data/index.js';
import { DataError, UsageError } from '../../errors.js';
import { resolveWeightsArg, WEIGHTS_NAME_LIST } from '../../io/pretrained.js';
import type { ArchName } from '../../models/index.js';
import { writeQuantizedFile } from '../../quant/load.js';
import { CALIBRATORS, type Calibrator } from '../../quant/observers.js';
import { calibrate, quantizeModel } from '../../quant/quantize.js';
import { planOf } from '../../quant/plan.js';
import { materialize, resolveDataSpec } from '../../train/data.js';
import { evalTransformsFor } from '../../train/predict.js';
import { modelFromWeights } from '../../train/weights.js';
import { parseArch, parseChoice, parsePositiveInt, parseWorkers } from '../args.js';

interface QuantizeFlags {
  weights: string;
  calibrate: string;
  calibrationImages: number;
  calibrator: Calibrator;
  arch?: ArchName;
  batchSize: number;
  workers?: number;
  backend?: BackendName;
  out: string;
}

/** The calibration images: Fashion-MNIST's training split, an image folder (its train/ when present) or a prepared file. */
function openCalibrationData(spec: string, channels: 1 | 3, broken: BrokenInputLog): { dataset: Dataset; name: string } {
  if (spec.startsWith('fashion-mnist')) {
    const data = resolveDataSpec({ dataset: spec });
    if (data.kind !== 'fashion-mnist') throw new UsageError(`--calibrate ${spec}: unknown dataset`);
    for (const f of ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'])
      if (!existsSync(join(data.dir, f))) throw new DataError(`--calibrate ${spec}: ${join(data.dir, f)} does not exist`);
    return { dataset: IdxDataset.fashionMnist('train', data.dir), name: `fashion-mnist (training split, ${data.dir})` };
  }
  if (!existsSync(spec)) throw new DataError(`--calibrate ${spec}: no such dataset folder or prepared file`);
  if (!statSync(spec).isDirectory()) return { dataset: new PreparedDataset(spec), name: spec };
  const root = existsSync(join(spec, 'train')) && statSync(join(spec, 'train')).isDirectory() ? join(spec, 'train') : spec;
  return { dataset: ImageFolder.open(root, { channels, broken }), name: root };
}

export function register(program: Command): void {
  program
    .command('quantize')
    .description('quantize a model to int8 (post-training static quantization calibrated on images)')
    .requiredOption(
      '--weights <file>',
      `f32 model weights (.pth, .safetensors, or a training checkpoint), or ${WEIGHTS_NAME_LIST.join(' | ')}`,
    )
    .requiredOption(
      '--calibrate <data>',
      'calibration images: fashion-mnist[=DIR] (its training split), an image folder (DIR/train if present) or a prepared file',
    )
    .option('--calibration-images <n>', 'how many images (the first N) calibrate the activation ranges', parsePositiveInt, 1000)
    .option(
      '--calibrator <name>',
      `${CALIBRATORS.join(' | ')}: activation range from the largest value, the 99.99th percentile, or TensorRT's KL-divergence threshold`,
      parseChoice(CALIBRATORS),
      'minmax',
    )
    .option('--arch <name>', 'architecture (default: from the weights)', parseArch)
    .option('--batch-size <n>', 'images per calibration forward pass', parsePositiveInt, 64)
    .option('--workers <n>', 'data-loading worker threads (default 2)', parseWorkers)
    .option('--backend <name>', `backend of the f32 calibration passes: ${BACKEND_NAMES.join(' | ')}`, parseChoice(BACKEND_NAMES))
    .requiredOption('--out <file>', 'the quantized model to write (.safetensors)')
    .action(async (flags: QuantizeFlags) => {
      if (!flags.out.endsWith('.safetensors')) throw new UsageError(`--out ${flags.out}: a quantized model is a .safetensors file`);
      const outDir = dirname(flags.out);
      if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new DataError(`--out ${flags.out}: no such folder ${outDir}`);
      setBackend(flags.backend ?? defaultBackendName());
      const { model, info, meanImage } = modelFromWeights(await resolveWeightsArg(flags.weights, flags.arch), flags.arch);
      planOf(model); // refuses what int8 cannot run before any data is read
      const broken = new BrokenInputLog({});
      const { dataset, name } = openCalibrationData(flags.calibrate, info.inChannels === 1 ? 1 : 3, broken);
      const transforms = materialize(
        evalTransformsFor(info),
        () => {
          throw new DataError(`${flags.weights}: the model subtracts a mean image, but none was found next to it`);
        },
        meanImage,
      );
      const loader = new DataLoader(dataset, { batchSize: flags.batchSize, transforms, workers: flags.workers ?? 2, broken });
      const started = performance.now();
      let ranges;
      try {
        ranges = await calibrate(model, loader.iterate(0), {
          calibrator: flags.calibrator,
          images: flags.calibrationImages,
          onBatch: (seen) =>
            process.stderr.isTTY &&
            process.stderr.write(`\rcalibrating: ${seen}/${Math.min(flags.calibrationImages, dataset.length)} images`),
        });
      } finally {
        await loader.close();
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
      if (ranges.images === 0) throw new DataError(`--calibrate ${flags.calibrate}: no image could be read`);
      if (ranges.images < flags.calibrationImages)
        process.stderr.write(`warning: ${name} has only ${ranges.images} images; calibrated on all of them\n`);
      const q = quantizeModel(model, ranges, { info, calibrator: flags.calibrator, calibrationData: name });
      writeQuantizedFile(flags.out, q);
      const bytes = statSync(flags.out).size;
      process.stdout.write(
        `quantized ${q.arch} to int8 (${flags.calibrator}, ${ranges.images} images of ${name}, ${((performance.now() - started) / 1000).toFixed(1)} s): ` +
          `wrote ${flags.out} (${(bytes / 1e6).toFixed(1)} MB)\n`,
      );
    });
}
