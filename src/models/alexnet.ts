// The three AlexNets, with module trees and parameter names equal to PyTorch's:
// 'alexnet' (torchvision), 'alexnet-v1' (the paper's widths in one tower, conv/fc_layer),
// 'alexnet-2012' (the paper exactly: LRN, two towers as groups=2, dropout after FC6/FC7 ReLU).
// createModel checks its options and names the one at fault.
import { ShapeError, UsageError } from '../errors.js';
import { ReLU } from '../nn/activation.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { LocalResponseNorm } from '../nn/lrn.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Sequential } from '../nn/sequential.js';
import { withoutInit } from '../nn/init.js';
import { AlexNet, featureSize, paperInit, xavierInit, type ArchName, type InitScheme, type ModelOptions } from './alexnet_base.js';

export const ARCHS: readonly ArchName[] = ['alexnet', 'alexnet-v1', 'alexnet-2012'];
const INIT_SCHEMES: readonly InitScheme[] = ['pytorch', 'paper', 'xavier'];

export function isArchName(s: string): s is ArchName {
  return (ARCHS as readonly string[]).includes(s);
}

/** createModel's options with their defaults filled in. */
type BuildOptions = Required<Omit<ModelOptions, 'rng'>> & Pick<ModelOptions, 'rng'>;

/** torchvision.models.alexnet: 224 input, AdaptiveAvgPool2d((6, 6)), dropout before FC6 and FC7. */
function torchvisionAlexNet(o: BuildOptions): AlexNet {
  const rng = o.rng;
  const features = new Sequential(
    new Conv2d(o.inChannels, 64, 11, { stride: 4, padding: 2, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
    new Conv2d(64, 192, 5, { padding: 2, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
    new Conv2d(192, 384, 3, { padding: 1, rng }),
    new ReLU(true),
    new Conv2d(384, 256, 3, { padding: 1, rng }),
    new ReLU(true),
    new Conv2d(256, 256, 3, { padding: 1, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
  );
  const classifier = new Sequential(
    new Dropout(o.dropout),
    new Linear(256 * 6 * 6, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, 4096, { rng }),
    new ReLU(true),
    new Linear(4096, o.numClasses, { rng }),
  );
  const parts: [string, Sequential | AdaptiveAvgPool2d][] = [
    ['features', features],
    ['avgpool', new AdaptiveAvgPool2d([6, 6])],
    ['classifier', classifier],
  ];
  return new AlexNet('alexnet', parts, 2, [o.inChannels, o.inputSize, o.inputSize], o.numClasses);
}

/** The paper's classifier (both paper models): FC6 sized for the features, dropout after FC6 and FC7's ReLU. */
function paperClassifier(fcIn: number, o: BuildOptions): Sequential {
  const rng = o.rng;
  return new Sequential(
    new Linear(fcIn, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, o.numClasses, { rng }),
  );
}

/** The paper's widths in one tower (conv / fc_layer), 227 input. */
function alexNetV1(o: BuildOptions): AlexNet {
  const rng = o.rng;
  const conv = new Sequential(
    new Conv2d(o.inChannels, 96, 11, { stride: 4, padding: 1, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
    new Conv2d(96, 256, 5, { padding: 2, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
    new Conv2d(256, 384, 3, { padding: 1, rng }),
    new ReLU(true),
    new Conv2d(384, 384, 3, { padding: 1, rng }),
    new ReLU(true),
    new Conv2d(384, 256, 3, { padding: 1, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
  );
  const parts: [string, Sequential][] = [
    ['conv', conv],
    ['fc_layer', paperClassifier(featureSize(conv, o.inChannels, o.inputSize), o)],
  ];
  return new AlexNet('alexnet-v1', parts, 1, [o.inChannels, o.inputSize, o.inputSize], o.numClasses);
}

/** The paper exactly: LRN(5, 5e-4, 0.75, k=2) after conv1/conv2 ReLU, two towers as groups=2. */
function alexNet2012(o: BuildOptions): AlexNet {
  const rng = o.rng;
  const lrn = () => new LocalResponseNorm(5, 5e-4, 0.75, 2);
  const features = new Sequential(
    new Conv2d(o.inChannels, 96, 11, { stride: 4, rng }),
    new ReLU(true),
    lrn(),
    new MaxPool2d(3, 2),
    new Conv2d(96, 256, 5, { padding: 2, groups: 2, rng }),
    new ReLU(true),
    lrn(),
    new MaxPool2d(3, 2),
    new Conv2d(256, 384, 3, { padding: 1, rng }),
    new ReLU(true),
    new Conv2d(384, 384, 3, { padding: 1, groups: 2, rng }),
    new ReLU(true),
    new Conv2d(384, 256, 3, { padding: 1, groups: 2, rng }),
    new ReLU(true),
    new MaxPool2d(3, 2),
  );
  const parts: [string, Sequential][] = [
    ['features', features],
    ['classifier', paperClassifier(featureSize(features, o.inChannels, o.inputSize), o)],
  ];
  return new AlexNet('alexnet-2012', parts, 1, [o.inChannels, o.inputSize, o.inputSize], o.numClasses);
}

/** A positive integer option, or a UsageError naming it. */
function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`createModel: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** createModel's options checked, with their defaults. */
function buildOptions(arch: ArchName, opts: ModelOptions): BuildOptions {
  if (!isArchName(arch)) throw new UsageError(`createModel: unknown architecture '${String(arch)}' (one of ${ARCHS.join(', ')})`);
  const init = opts.init ?? 'pytorch';
  if (init !== 'none' && !INIT_SCHEMES.includes(init))
    throw new UsageError(`createModel: init must be one of ${INIT_SCHEMES.join(', ')}, got '${init}'`);
  const dropout = opts.dropout ?? 0.5;
  if (!(dropout >= 0 && dropout <= 1)) throw new UsageError(`createModel: dropout must be in [0, 1], got ${dropout}`);
  return {
    numClasses: positiveInt('numClasses', opts.numClasses ?? 1000),
    inChannels: positiveInt('inChannels', opts.inChannels ?? 3),
    inputSize: positiveInt('inputSize', opts.inputSize ?? (arch === 'alexnet' ? 224 : 227)),
    dropout,
    init,
    rng: opts.rng,
  };
}

/**
 * Builds one of the three AlexNets by name. Bad options are a UsageError naming the option; sizes
 * the model cannot be built for (an input too small, a layer too large) a ShapeError naming them.
 */
export function createModel(arch: ArchName, opts: ModelOptions = {}): AlexNet {
  const o = buildOptions(arch, opts);
  const build = arch === 'alexnet' ? torchvisionAlexNet : arch === 'alexnet-v1' ? alexNetV1 : alexNet2012;
  let model: AlexNet;
  try {
    model = o.init === 'none' ? withoutInit(() => build(o)) : build(o);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    const sizes = `numClasses ${o.numClasses}, inChannels ${o.inChannels}, inputSize ${o.inputSize}`;
    throw new ShapeError(`${arch} with ${sizes}: ${err.message}`);
  }
  if (o.init === 'paper') paperInit(model, o.rng);
  if (o.init === 'xavier') xavierInit(model, o.rng);
  return model;
}
