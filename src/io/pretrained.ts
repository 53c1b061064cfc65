// Weights given by name or by path, one rule for every command and the library: a value that
// names released weights (`torchvision`, `IMAGENET1K_V1`; see hub.ts) becomes the path of that
// file in torch.hub's cache, downloaded first when it is missing; anything else is a path and
// stays one (write `./torchvision` for a file of that name). `loadPretrained('alexnet')` is the
// library's way to torchvision's AlexNet.
import { UsageError } from '../errors.js';
import type { AlexNet, ArchName } from '../models/index.js';
import { hubWeightsFile, namedWeights, WEIGHTS_NAMES, type HubOptions } from './hub.js';
import { modelFromWeights } from './model_from_weights.js';
import { readWeightsFile } from './weights.js';

/** The names `--weights` accepts besides a path, for help texts. */
export const WEIGHTS_NAME_LIST = [...WEIGHTS_NAMES.keys()];

export interface ResolveOptions extends HubOptions {
  /** The option the value came from, for messages (default '--weights'). */
  option?: string;
}

/** Throws a UsageError when `value` names weights of another architecture than `arch` (a path passes). */
export function checkWeightsName(value: string, arch: ArchName | undefined, option = '--weights'): void {
  const named = namedWeights(value);
  if (named && arch !== undefined && arch !== named.arch)
    throw new UsageError(`${option} ${value}: ${named.description} are for --arch ${named.arch}, not ${arch}`);
}

/**
 * The weights file `value` means: a path as it is, or for a weights name the file in torch.hub's
 * cache (downloaded when missing). A name for another architecture than `arch` is a UsageError.
 */
export async function resolveWeightsArg(value: string, arch: ArchName | undefined, opts: ResolveOptions = {}): Promise<string> {
  checkWeightsName(value, arch, opts.option);
  const named = namedWeights(value);
  return named ? hubWeightsFile(named, opts) : value;
}

export interface PretrainedOptions extends HubOptions {
  /** Which released weights (default 'torchvision'). */
  weights?: string;
}

/**
 * An AlexNet with released weights — for 'alexnet', torchvision's — read from torch.hub's cache
 * or downloaded into it. The model is in eval mode (dropout off), ready to predict.
 */
export async function loadPretrained(arch: ArchName, opts: PretrainedOptions = {}): Promise<AlexNet> {
  const name = opts.weights ?? 'torchvision';
  const named = namedWeights(name);
  if (!named) throw new UsageError(`loadPretrained: unknown weights '${name}' (known: ${WEIGHTS_NAME_LIST.join(', ')})`);
  if (named.arch !== arch) throw new UsageError(`loadPretrained('${arch}'): ${named.description} are for '${named.arch}' only`);
  const path = await hubWeightsFile(named, opts);
  return modelFromWeights(readWeightsFile(path), { arch, source: path });
}
