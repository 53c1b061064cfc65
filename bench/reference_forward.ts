// Times torchvision AlexNet's forward pass at batch 1 (input 3×224×224) directly through the
// reference backend's kernels, with random weights: warm-up 1, then the median of 5 runs.
// Run: npx tsc -p tsconfig.json && node dist/bench/reference_forward.js
import type { Shape, Storage } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { adaptivePoolGeometry, convGeometry, poolGeometry } from '../src/backend/conv_util.js';
import { Generator } from '../src/random.js';
import { median } from '../src/bench/model_bench.js';

const backend = new ReferenceBackend();
const gen = new Generator(1);

function randomStorage(shape: Shape, scale: number): Storage {
  let size = 1;
  for (const d of shape) size *= d;
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = (gen.uniform() * 2 - 1) * scale;
  return backend.fromArray(data, shape);
}

interface ConvLayer {
  kind: 'conv';
  w: Storage;
  b: Storage;
  wShape: Shape;
  stride: number;
  padding: number;
}
interface PoolLayer {
  kind: 'pool';
}
interface LinearLayer {
  kind: 'linear';
  w: Storage;
  b: Storage;
  inF: number;
  outF: number;
  relu: boolean;
}
type Layer = ConvLayer | PoolLayer | LinearLayer;

function conv(inC: number, outC: number, k: number, stride: number, padding: number): ConvLayer {
  const wShape = [outC, inC, k, k];
  return { kind: 'conv', w: randomStorage(wShape, 1 / Math.sqrt(inC * k * k)), b: randomStorage([outC], 0.01), wShape, stride, padding };
}

function linear(inF: number, outF: number, relu: boolean): LinearLayer {
  return { kind: 'linear', w: randomStorage([outF, inF], 1 / Math.sqrt(inF)), b: randomStorage([outF], 0.01), inF, outF, relu };
}

// torchvision.models.alexnet: features, avgpool (6×6), flatten, classifier (dropout is identity in eval).
const features: Layer[] = [
  conv(3, 64, 11, 4, 2),
  { kind: 'pool' },
  conv(64, 192, 5, 1, 2),
  { kind: 'pool' },
  conv(192, 384, 3, 1, 1),
  conv(384, 256, 3, 1, 1),
  conv(256, 256, 3, 1, 1),
  { kind: 'pool' },
];
const classifier: LinearLayer[] = [linear(9216, 4096, true), linear(4096, 4096, true), linear(4096, 1000, false)];

function forward(input: Storage): Storage {
  let x = input;
  let shape: number[] = [1, 3, 224, 224];
  for (const layer of features) {
    if (layer.kind === 'conv') {
      const g = convGeometry(shape, layer.wShape, [layer.stride, layer.stride], [layer.padding, layer.padding], 1);
      x = backend.conv2d(x, layer.w, layer.b, g, true);
      shape = [g.n, g.oc, g.oh, g.ow];
    } else if (layer.kind === 'pool') {
      const g = poolGeometry(shape, [3, 3], [2, 2], [0, 0], false);
      x = backend.maxPool2d(x, g, false).y;
      shape = [g.n, g.c, g.oh, g.ow];
    }
  }
  const ag = adaptivePoolGeometry(shape, [6, 6]);
  x = backend.adaptiveAvgPool2d(x, ag);
  const flat = [1, ag.c * 36];
  x = backend.reshape(x, [ag.n, ag.c, 6, 6], flat);
  for (const layer of classifier) {
    x = backend.linear(x, layer.w, layer.b, { m: 1, k: layer.inF, n: layer.outF }, layer.relu);
  }
  return x;
}

const input = randomStorage([1, 3, 224, 224], 1);
forward(input);
const times: number[] = [];
for (let run = 0; run < 5; run++) {
  const t0 = performance.now();
  const y = forward(input);
  times.push(performance.now() - t0);
  if (y.size !== 1000) throw new Error(`expected 1000 logits, got ${y.size}`);
}
times.sort((a, b) => a - b);
console.log(
  `reference backend, AlexNet (torchvision) forward, batch 1, 3x224x224: median ${median(times).toFixed(1)} ms ` +
    `(runs: ${times.map((t) => t.toFixed(1)).join(', ')} ms)`,
);
