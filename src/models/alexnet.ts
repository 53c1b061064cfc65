// The three AlexNets of DESIGN §2, with module trees and parameter names equal to PyTorch's:
// 'alexnet' (torchvision), 'alexnet-v1' (the paper's widths in one tower, conv/fc_layer),
// 'alexnet-2012' (the paper exactly: LRN, two towers as groups=2, dropout after FC6/FC7 ReLU).
import { ReLU } from '../nn/activation.js';
import { Conv2d } from '../nn/conv.js';
import { Dropout } from '../nn/dropout.js';
import { Linear } from '../nn/linear.js';
import { LocalResponseNorm } from '../nn/lrn.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../nn/pool.js';
import { Sequential } from '../nn/sequential.js';
import { AlexNet, featureSize, paperInit, xavierInit, type ArchName, type ModelOptions } from './alexnet_base.js';

export const ARCHS: readonly ArchName[] = ['alexnet', 'alexnet-v1', 'alexnet-2012'];

export function isArchName(s: string): s is ArchName {
  return (ARCHS as readonly string[]).includes(s);
}

/** torchvision.models.alexnet: 224 input, AdaptiveAvgPool2d((6, 6)), dropout before FC6 and FC7. */
function torchvisionAlexNet(o: Required<Omit<ModelOptions, 'rng'>> & Pick<ModelOptions, 'rng'>): AlexNet {
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

/** The paper's widths in one tower (conv / fc_layer), 227 input. */
function alexNetV1(o: Required<Omit<ModelOptions, 'rng'>> & Pick<ModelOptions, 'rng'>): AlexNet {
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
  const fcIn = featureSize(conv, o.inChannels, o.inputSize);
  const fcLayer = new Sequential(
    new Linear(fcIn, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, o.numClasses, { rng }),
  );
  return new AlexNet(
    'alexnet-v1',
    [
      ['conv', conv],
      ['fc_layer', fcLayer],
    ],
    1,
    [o.inChannels, o.inputSize, o.inputSize],
    o.numClasses,
  );
}

/** The paper exactly: LRN(5, 5e-4, 0.75, k=2) after conv1/conv2 ReLU, two towers as groups=2. */
function alexNet2012(o: Required<Omit<ModelOptions, 'rng'>> & Pick<ModelOptions, 'rng'>): AlexNet {
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
  const fcIn = featureSize(features, o.inChannels, o.inputSize);
  const classifier = new Sequential(
    new Linear(fcIn, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, 4096, { rng }),
    new ReLU(true),
    new Dropout(o.dropout),
    new Linear(4096, o.numClasses, { rng }),
  );
  return new AlexNet(
    'alexnet-2012',
    [
      ['features', features],
      ['classifier', classifier],
    ],
    1,
    [o.inChannels, o.inputSize, o.inputSize],
    o.numClasses,
  );
}

/** Builds one of the three AlexNets by name. */
export function createModel(arch: ArchName, opts: ModelOptions = {}): AlexNet {
  const o = {
    numClasses: opts.numClasses ?? 1000,
    inChannels: opts.inChannels ?? 3,
    dropout: opts.dropout ?? 0.5,
    init: opts.init ?? 'pytorch',
    inputSize: opts.inputSize ?? (arch === 'alexnet' ? 224 : 227),
    rng: opts.rng,
  } as const;
  if (!Number.isInteger(o.numClasses) || o.numClasses < 1) throw new Error(`numClasses must be a positive integer, got ${o.numClasses}`);
  if (!Number.isInteger(o.inChannels) || o.inChannels < 1) throw new Error(`inChannels must be a positive integer, got ${o.inChannels}`);
  const model = arch === 'alexnet' ? torchvisionAlexNet(o) : arch === 'alexnet-v1' ? alexNetV1(o) : alexNet2012(o);
  if (o.init === 'paper') paperInit(model, o.rng);
  if (o.init === 'xavier') xavierInit(model, o.rng);
  return model;
}
