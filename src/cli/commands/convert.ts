// `alexnet convert IN OUT [--arch NAME]`: weights between .pth/.pt and .safetensors (every
// tensor, converted to float32), or to .onnx (the model rebuilt from the weights — its
// architecture recognised from them or given by --arch — and exported at opset 13). The output
// path is checked before the input is read, and written atomically.
import type { Command } from 'commander';
import { extname } from 'node:path';
import { setBackend } from '../../backend/registry.js';
import { UsageError } from '../../errors.js';
import { modelFromWeights } from '../../io/model_from_weights.js';
import { exportOnnx } from '../../io/onnx/export.js';
import { isQuantizedFile, writeQdqOnnxFile } from '../../quant/load.js';
import { encodePth } from '../../io/pth/index.js';
import { encodeSafetensors } from '../../io/safetensors.js';
import { readWeightsFile } from '../../io/weights.js';
import { checkOutputFile, writeFileAtomic } from '../../io/write_atomic.js';
import type { ArchName } from '../../models/index.js';
import { parseArch } from '../args.js';

type Target = 'pth' | 'safetensors' | 'onnx';

function targetOf(path: string): Target {
  const ext = extname(path).toLowerCase();
  if (ext === '.pth' || ext === '.pt') return 'pth';
  if (ext === '.safetensors') return 'safetensors';
  if (ext === '.onnx') return 'onnx';
  throw new UsageError(`cannot tell the output format of '${path}' (use .pth, .pt, .safetensors or .onnx)`);
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert weights between .pth, .safetensors and .onnx (by extension)')
    .argument('<in>', '.pth/.pt or .safetensors weights, or an int8 model (to .onnx as QDQ)')
    .argument('<out>', '.pth, .pt, .safetensors or .onnx')
    .option('--arch <name>', 'alexnet | alexnet-v1 | alexnet-2012 (for .onnx; default: recognised from the weights)', parseArch)
    .action((input: string, output: string, flags: { arch?: ArchName }) => {
      if (extname(input).toLowerCase() === '.onnx')
        throw new UsageError(`reading ONNX files is not supported ('${input}'); convert from .pth or .safetensors`);
      const target = targetOf(output);
      checkOutputFile(output);
      if (isQuantizedFile(input)) {
        // An int8 model (alexnet quantize) goes to ONNX only, as QuantizeLinear/DequantizeLinear pairs.
        if (target !== 'onnx') throw new UsageError(`${input} is a quantized model: it converts only to .onnx (QDQ)`);
        setBackend('reference');
        writeQdqOnnxFile(input, output);
        return;
      }
      const tensors = readWeightsFile(input);
      if (target === 'pth') writeFileAtomic(output, encodePth(tensors));
      else if (target === 'safetensors') writeFileAtomic(output, encodeSafetensors(tensors));
      else {
        // Export reads parameters only; the plain backend avoids loading the addon.
        setBackend('reference');
        writeFileAtomic(output, exportOnnx(modelFromWeights(tensors, { arch: flags.arch, source: input })));
      }
    });
}
