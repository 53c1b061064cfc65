// `--classifier-precision f32|bf16|int8` (predict, eval, bench, serve): its help and the refusal of a
// low precision for a quantized int8 model, whose classifier is int8 already.
import type { ClassifierPrecision } from '../backend/backend.js';
import { UsageError } from '../errors.js';
import { isQuantizedFile } from '../quant/load.js';

export const CLASSIFIER_PRECISION_HELP =
  "f32 | bf16 | int8: the linear layers' weights in inference (a copy of the f32 weights; native backend; convolutions stay f32)";

/** Throws a UsageError when a bf16/int8 classifier is asked of a quantized int8 model file. */
export function checkClassifierPrecision(weights: string, precision: ClassifierPrecision | undefined): void {
  if (precision && precision !== 'f32' && isQuantizedFile(weights))
    throw new UsageError(`--classifier-precision ${precision} is for f32 weights: ${weights} is a quantized int8 model`);
}
