// Training inside the page, written against the library alone so that Node runs the very same
// steps (bench/web_train_curve.ts compares the page's loss curve with the native backend's):
// alexnet-v1 with one input channel at 65×65 on the first `subset` Fashion-MNIST images, each
// resized with the library's bilinear resize and normalised as `alexnet train --dataset
// fashion-mnist` does, SGD with momentum and weight decay, batches drawn from a seeded shuffle.
import { u8Image } from '../../data/image.js';
import { applyTransforms, T } from '../../data/transforms.js';
import { ShapeError } from '../../errors.js';
import { createModel } from '../../models/alexnet.js';
import type { AlexNet } from '../../models/alexnet_base.js';
import { crossEntropy } from '../../ops/loss.js';
import { SGD } from '../../optim/sgd.js';
import { Generator, manualSeed } from '../../random.js';
import { Tensor, tidy } from '../../tensor.js';
import type { Pixels } from '../../data/image.js';

export interface TrainSettings {
  seed: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  /** How many of the first training images to train on. */
  subset: number;
}

/** The page's defaults: small enough for a browser on a laptop, large enough to learn quickly. */
export const PAGE_TRAIN_DEFAULTS: TrainSettings = { seed: 0, batchSize: 16, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, subset: 1024 };

export const TRAIN_ARCH = 'alexnet-v1';
export const TRAIN_INPUT_SIZE = 65;
const SIDE = 28;
/** Fashion-MNIST's mean and standard deviation of [0, 1] pixels (src/train/data.ts's). */
const TRANSFORMS = [T.resize([TRAIN_INPUT_SIZE, TRAIN_INPUT_SIZE]), T.toTensor(), T.normalize([0.286], [0.353])];

export interface StepResult {
  step: number;
  loss: number;
  /** Top-1 accuracy on this step's batch. */
  accuracy: number;
}

export class TrainSession {
  readonly model: AlexNet;
  private readonly sgd: SGD;
  private readonly order: Generator;
  private readonly count: number;
  private queue: number[] = [];
  private steps = 0;

  /** `images` [N, 28, 28] uint8 and `labels` [N] as read from the IDX files. */
  constructor(
    private readonly images: Uint8Array,
    private readonly labels: Uint8Array,
    readonly settings: TrainSettings,
  ) {
    const available = Math.min(labels.length, Math.floor(images.length / (SIDE * SIDE)));
    this.count = Math.min(settings.subset, available);
    if (this.count < settings.batchSize)
      throw new ShapeError(`training needs at least one batch of ${settings.batchSize} images, the data holds ${this.count}`);
    manualSeed(settings.seed); // dropout's masks
    this.model = createModel(TRAIN_ARCH, { inChannels: 1, numClasses: 10, inputSize: TRAIN_INPUT_SIZE, rng: new Generator(settings.seed) });
    this.model.train();
    this.sgd = new SGD(this.model.parameters(), { lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
    this.order = new Generator(settings.seed + 1);
  }

  /** The next batch's image indices: a fresh seeded shuffle of the subset each epoch. */
  private nextIndices(): number[] {
    const out: number[] = [];
    while (out.length < this.settings.batchSize) {
      if (this.queue.length === 0) this.queue = Array.from(this.order.permutation(this.count));
      out.push(this.queue.shift()!);
    }
    return out;
  }

  /** One batch [N, 1, 65, 65] and its labels. */
  batch(indices: readonly number[]): { x: Float32Array; y: Int32Array } {
    const per = TRAIN_INPUT_SIZE * TRAIN_INPUT_SIZE;
    const x = new Float32Array(indices.length * per);
    const y = new Int32Array(indices.length);
    indices.forEach((i, k) => {
      const img = u8Image(this.images.slice(i * SIDE * SIDE, (i + 1) * SIDE * SIDE), SIDE, SIDE, 1);
      const out = applyTransforms(TRANSFORMS, img, new Generator(0)) as Pixels;
      x.set(out.data, k * per);
      y[k] = this.labels[i] ?? 0;
    });
    return { x, y };
  }

  /** One SGD step on the next batch. */
  step(): StepResult {
    const indices = this.nextIndices();
    const { x, y } = this.batch(indices);
    const { loss, correct } = tidy(() => {
      const logits = this.model.forward(Tensor.fromArray(x, [indices.length, 1, TRAIN_INPUT_SIZE, TRAIN_INPUT_SIZE]));
      const l = crossEntropy(logits, y);
      l.backward();
      this.sgd.step();
      this.sgd.zeroGrad();
      return { loss: l.toArray()[0] ?? NaN, correct: countCorrect(logits.toArray(), y) };
    });
    this.steps += 1;
    return { step: this.steps, loss, accuracy: correct / indices.length };
  }
}

function countCorrect(logits: ArrayLike<number>, y: Int32Array): number {
  const c = logits.length / y.length;
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (logits[i * c + j]! > logits[i * c + best]!) best = j;
    if (best === y[i]) correct++;
  }
  return correct;
}
