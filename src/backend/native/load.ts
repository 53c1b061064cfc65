// Loads the native oneDNN addon and wraps it as a Backend. Options: `threads` (OpenMP threads;
// default the machine's cores, or ALEXNET_NUM_THREADS), `precision` ('bf16' computes
// convolutions and inner products in bf16 where this CPU supports it natively; otherwise the
// library says so once and stays f32) and `classifierPrecision` (inference reads the linear
// layers' weights as bf16 or int8; bf16 likewise only where the CPU computes it natively).
import { CLASSIFIER_PRECISIONS, PRECISIONS, type Backend, type ClassifierPrecision, type Precision } from '../backend.js';
import { UsageError } from '../../errors.js';
import { ReferenceBackend } from '../reference/index.js';
import { loadAddon } from './addon.js';
import { NativeBackend } from './native_backend.js';

export interface NativeOptions {
  threads?: number;
  precision?: Precision;
  /** Linear layers' weights in inference: f32, or a bf16 / int8 copy (native/linear_lowp.cpp). */
  classifierPrecision?: ClassifierPrecision;
}

let warnedBf16 = false;
let warnedBf16Classifier = false;

export function tryLoadNative(opts: NativeOptions = {}): { backend: Backend | null; reason: string } {
  const { addon, reason } = loadAddon();
  if (!addon) return { backend: null, reason };
  if (opts.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1)
      throw new UsageError(`native backend: threads must be a positive integer, got ${opts.threads}`);
    addon.setThreads(opts.threads);
  } else {
    const env = process.env.ALEXNET_NUM_THREADS;
    if (env && /^[1-9][0-9]*$/.test(env)) addon.setThreads(Number(env));
  }
  let precision: Precision = opts.precision ?? 'f32';
  if (!PRECISIONS.includes(precision))
    throw new UsageError(`native backend: precision must be one of ${PRECISIONS.join(', ')}, got '${String(precision)}'`);
  if (precision === 'f16')
    throw new UsageError("native backend: precision f16 (f16 weights) is the webgpu backend's; the native backend computes in f32 or bf16");
  if (precision === 'bf16' && !addon.info().bf16) {
    if (!warnedBf16) {
      process.stderr.write(`alexnet: this CPU has no native bf16 support (oneDNN ISA ${addon.info().isa}); computing in f32\n`);
      warnedBf16 = true;
    }
    precision = 'f32';
  }
  let classifier: ClassifierPrecision = opts.classifierPrecision ?? 'f32';
  if (!CLASSIFIER_PRECISIONS.includes(classifier))
    throw new UsageError(
      `native backend: classifier precision must be one of ${CLASSIFIER_PRECISIONS.join(', ')}, got '${String(classifier)}'`,
    );
  if (classifier === 'bf16' && !addon.info().bf16) {
    if (!warnedBf16Classifier) {
      process.stderr.write(
        `alexnet: this CPU has no native bf16 support (oneDNN ISA ${addon.info().isa}); the classifier reads f32 weights\n`,
      );
      warnedBf16Classifier = true;
    }
    classifier = 'f32';
  }
  return { backend: new NativeBackend(addon, new ReferenceBackend(), precision, classifier), reason: '' };
}

/** Whether the native backend can compute in bf16 on this CPU (false where its addon does not load). */
export function nativeHasBf16(): boolean {
  return loadAddon().addon?.info().bf16 === true;
}
