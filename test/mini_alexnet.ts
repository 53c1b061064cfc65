// The narrow AlexNet-2012-shaped network of the conformance suite's whole-model case (LRN, two
// towers as groups, 67×67 input, 5 classes), the same layers as scripts/make_golden_fixtures.py's
// mini_alexnet.json; shared by the Node suite and the WebGPU page's (platform-neutral: bundled).
import { AlexNet } from '../src/models/alexnet_base.js';
import { ReLU } from '../src/nn/activation.js';
import { Conv2d } from '../src/nn/conv.js';
import { Linear } from '../src/nn/linear.js';
import { LocalResponseNorm } from '../src/nn/lrn.js';
import { AdaptiveAvgPool2d, MaxPool2d } from '../src/nn/pool.js';
import { Sequential } from '../src/nn/sequential.js';

export function miniAlexNet(): AlexNet {
  const lrn = (): LocalResponseNorm => new LocalResponseNorm(5, 5e-4, 0.75, 2);
  const features = new Sequential(
    new Conv2d(3, 8, 11, { stride: 4 }),
    new ReLU(),
    lrn(),
    new MaxPool2d(3, 2),
    new Conv2d(8, 12, 5, { padding: 2, groups: 2 }),
    new ReLU(),
    lrn(),
    new MaxPool2d(3, 2),
    new Conv2d(12, 16, 3, { padding: 1 }),
    new ReLU(),
    new Conv2d(16, 16, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new Conv2d(16, 8, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new MaxPool2d(3, 2),
  );
  const classifier = new Sequential(new Linear(32, 20), new ReLU(), new Linear(20, 5));
  return new AlexNet(
    'alexnet',
    [
      ['features', features],
      ['avgpool', new AdaptiveAvgPool2d(2)],
      ['classifier', classifier],
    ],
    2,
    [3, 67, 67],
    5,
  );
}
