// `alexnet forward --arch NAME --weights FILE|torchvision --input X.npy --output Y.npy
// [--precision f32|bf16|f16]`: eval-mode logits (dropout off) for a batch stored as .npy
// ([N, C, H, W] or one [C, H, W] image; float32/float64/uint8 values are used as they are). The
// class count and input channels come from the weights; the output is float32 [N, classes]. The
// output path is checked before any work and written atomically.
import { PRECISIONS, type Precision } from '../../backend/backend.js';
import type { Command } from 'commander';
import { defaultBackendName, getBackend, setBackend } from '../../backend/registry.js';
import { DataError, UsageError } from '../../errors.js';
import { modelFromWeights } from '../../io/model_from_weights.js';
import { encodeNpy, npyToFloat32, readNpy } from '../../io/npy.js';
import { resolveWeightsArg, WEIGHTS_NAME_LIST } from '../../io/pretrained.js';
import { readWeightsFile } from '../../io/weights.js';
import { checkOutputFile, writeFileAtomic } from '../../io/write_atomic.js';
import type { ArchName } from '../../models/index.js';
import { noGrad, shapeText, Tensor, tidy } from '../../tensor.js';
import { parseArch, parseChoice, parsePositiveInt } from '../args.js';

interface ForwardFlags {
  arch?: ArchName;
  weights: string;
  input: string;
  output: string;
  precision: Precision;
  batchSize: number;
}

export function register(program: Command): void {
  program
    .command('forward')
    .description('run a model in eval mode on an .npy batch and write the logits as .npy')
    .option('--arch <name>', 'alexnet | alexnet-v1 | alexnet-2012 (default: recognised from the weights)', parseArch)
    .requiredOption('--weights <file>', `.pth/.pt or .safetensors state dict (or checkpoint), or ${WEIGHTS_NAME_LIST.join(' | ')}`)
    .requiredOption('--input <x.npy>', 'input batch [N, C, H, W] (or [C, H, W])')
    .requiredOption('--output <y.npy>', 'where to write the logits [N, classes] (float32)')
    .option(
      '--precision <p>',
      'f32 | bf16 (bf16 needs the native backend) | f16 (webgpu backend: f16 weights)',
      parseChoice(PRECISIONS),
      'f32',
    )
    .option('--batch-size <n>', 'images per forward pass', parsePositiveInt, 32)
    .action(async (flags: ForwardFlags) => {
      checkOutputFile(flags.output);
      if (flags.precision === 'bf16') {
        if (defaultBackendName() === 'reference')
          throw new UsageError('--precision bf16 needs the native backend (ALEXNET_BACKEND=reference is set)');
        setBackend('native', { precision: 'bf16' });
      } else if (flags.precision === 'f16') {
        setBackend(defaultBackendName(), { precision: 'f16' });
      } else {
        getBackend();
      }
      const input = readNpy(flags.input);
      const shape = input.shape.length === 3 ? [1, ...input.shape] : input.shape;
      if (shape.length !== 4)
        throw new DataError(`${flags.input}: expected an [N, C, H, W] or [C, H, W] array, got shape ${shapeText(input.shape)}`);
      const weights = await resolveWeightsArg(flags.weights, flags.arch);
      const model = modelFromWeights(readWeightsFile(weights), { arch: flags.arch, source: weights });
      const [n = 0, c = 0, h = 0, w = 0] = shape;
      try {
        model.checkInput([1, c, h, w]);
      } catch (err) {
        throw new DataError(`${flags.input}: ${(err as Error).message}`);
      }
      const x = npyToFloat32(input);
      const per = c * h * w;
      const out = new Float32Array(n * model.numClasses);
      for (let start = 0; start < n; start += flags.batchSize) {
        const count = Math.min(flags.batchSize, n - start);
        const logits = tidy(() =>
          noGrad(() => {
            const batch = Tensor.fromArray(x.subarray(start * per, (start + count) * per), [count, c, h, w]);
            return model.forward(batch).toArray();
          }),
        );
        out.set(logits, start * model.numClasses);
      }
      writeFileAtomic(flags.output, [encodeNpy(out, [n, model.numClasses])]);
    });
}
