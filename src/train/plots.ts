// Plots of a run, rendered headlessly: vega-lite specs compiled to vega, rendered to SVG with no
// browser, then rasterised to PNG by sharp (librsvg). Also the conv1 filters as an image grid,
// like Figure 3 of the paper (each filter min–max scaled on its own, enlarged with nearest
// neighbour), and the confusion matrix as a heat map.
import sharp from 'sharp';
import { ShapeError } from '../errors.js';
import { shapeText } from '../shape.js';
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface EpochPoint {
  epoch: number;
  trainLoss: number;
  trainTop1: number;
  valTop1: number | null;
  valTop5: number | null;
  lr: number;
}

export interface StepPoint {
  /** Fractional epoch: epoch − 1 + (batch + 1) / batches. */
  x: number;
  loss: number;
}

async function renderPng(spec: vl.TopLevelSpec): Promise<Buffer> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toBuffer();
}

const SIZE = { width: 520, height: 300 };

/** Training loss per step (light) and its mean per epoch (dark) against epochs. */
export function lossPlot(steps: StepPoint[], epochs: EpochPoint[]): Promise<Buffer> {
  const values = [
    ...steps.map((s) => ({ epoch: s.x, loss: s.loss, series: 'per step' })),
    ...epochs.map((e) => ({ epoch: e.epoch, loss: e.trainLoss, series: 'epoch mean' })),
  ];
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Training loss',
    ...SIZE,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: epochs.length < 40 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'loss', type: 'quantitative', title: 'cross-entropy loss', scale: { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: ['per step', 'epoch mean'], range: ['#9ecae9', '#08519c'] },
        title: null,
      },
    },
  });
}

/** Validation top-1 and top-5 error, and training top-1 error, against epochs. */
export function errorPlot(epochs: EpochPoint[]): Promise<Buffer> {
  const values = epochs.flatMap((e) => [
    ...(e.valTop1 === null ? [] : [{ epoch: e.epoch, error: 1 - e.valTop1, series: 'val top-1' }]),
    ...(e.valTop5 === null ? [] : [{ epoch: e.epoch, error: 1 - e.valTop5, series: 'val top-5' }]),
    { epoch: e.epoch, error: 1 - e.trainTop1, series: 'train top-1' },
  ]);
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Error rate',
    ...SIZE,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'error', type: 'quantitative', title: 'error', axis: { format: '.0%' } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  });
}

/** Learning rate against epochs (log scale). */
export function lrPlot(epochs: EpochPoint[]): Promise<Buffer> {
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Learning rate',
    ...SIZE,
    background: 'white',
    data: { values: epochs.map((e) => ({ epoch: e.epoch, lr: e.lr })) },
    mark: { type: 'line', point: true, interpolate: 'step-after' },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'lr', type: 'quantitative', title: 'learning rate', scale: { type: 'log' } },
    },
  });
}

/** Confusion matrix heat map (rows: true class, columns: predicted), counts as colour. */
export function confusionPlot(classes: readonly string[], counts: ArrayLike<number>): Promise<Buffer> {
  const c = classes.length;
  const values: { truth: string; predicted: string; count: number }[] = [];
  classes.forEach((truth, t) => classes.forEach((predicted, p) => values.push({ truth, predicted, count: counts[t * c + p] ?? 0 })));
  const cell = c <= 20 ? 32 : c <= 100 ? 8 : 2;
  const labels = c <= 100;
  return renderPng({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Confusion matrix',
    background: 'white',
    width: cell * c,
    height: cell * c,
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'ordinal', sort: [...classes], title: 'predicted', axis: labels ? { labelAngle: -45 } : null },
      y: { field: 'truth', type: 'ordinal', sort: [...classes], title: 'true class', axis: labels ? {} : null },
    },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' } } } },
      ...(c <= 20
        ? [
            {
              mark: { type: 'text' as const, fontSize: 9 },
              encoding: { text: { field: 'count', type: 'quantitative' as const }, color: { value: '#333' } },
            },
          ]
        : []),
    ],
  });
}

/**
 * The first convolution's filters [oc, c, kh, kw] as a grid of small RGB (or gray) tiles, each
 * scaled to its own min..max, enlarged `zoom` times, with a 2-pixel gap.
 */
export function filterGrid(weight: Float32Array, shape: readonly number[], zoom = 4): Promise<Buffer> {
  const [oc, c, kh, kw, ...rest] = shape;
  if (oc === undefined || c === undefined || kh === undefined || kw === undefined || rest.length)
    throw new ShapeError(`filter grid: expected a weight [out, in, kh, kw], got ${shapeText(shape)}`);
  const cols = oc % 12 === 0 ? 12 : oc % 8 === 0 ? 8 : Math.ceil(Math.sqrt(oc));
  const rows = Math.ceil(oc / cols);
  const gap = 2;
  const tileW = kw * zoom;
  const tileH = kh * zoom;
  const W = cols * (tileW + gap) + gap;
  const H = rows * (tileH + gap) + gap;
  const img = new Uint8Array(W * H * 3).fill(255);
  const per = c * kh * kw;
  for (let f = 0; f < oc; f++) {
    const w = weight.subarray(f * per, (f + 1) * per);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of w) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    const ox = gap + (f % cols) * (tileW + gap);
    const oy = gap + Math.floor(f / cols) * (tileH + gap);
    for (let y = 0; y < tileH; y++) {
      for (let x = 0; x < tileW; x++) {
        const ky = Math.floor(y / zoom);
        const kx = Math.floor(x / zoom);
        const o = ((oy + y) * W + ox + x) * 3;
        for (let ch = 0; ch < 3; ch++) {
          const src = c >= 3 ? ch : 0;
          img[o + ch] = Math.round((w[(src * kh + ky) * kw + kx]! - lo) * scale);
        }
      }
    }
  }
  return sharp(img, { raw: { width: W, height: H, channels: 3 } })
    .png()
    .toBuffer();
}
