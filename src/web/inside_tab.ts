// The Look inside tab: conv1's filters as an image grid, and for the current image one layer's
// feature maps, a small canvas per channel (each scaled to its own range; hovering shows the range).
import { $, messageOf, showMessage } from './dom.js';
import type { Engine } from './engine_client.js';
import type { FeatureMaps, ModelInfo } from './protocol.js';

/** One channel [H, W] as a grey canvas, scaled to its own min..max. */
function channelCanvas(maps: FeatureMaps, c: number): { canvas: HTMLCanvasElement; lo: number; hi: number } {
  const [, h = 1, w = 1] = maps.shape;
  const values = maps.data.subarray(c * h * w, (c + 1) * h * w);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const img = new ImageData(w, h);
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  values.forEach((v, i) => {
    const g = (v - lo) * scale;
    img.data.set([g, g, g, 255], 4 * i);
  });
  canvas.getContext('2d')?.putImageData(img, 0, 0);
  return { canvas, lo, hi };
}

export class InsideTab {
  private readonly layer = $<HTMLSelectElement>('layer');

  constructor(private readonly engine: Engine) {
    this.layer.addEventListener('change', () => void this.showLayer());
  }

  showModel(info: ModelInfo): void {
    const { width, height, rgba } = info.filters;
    const canvas = $<HTMLCanvasElement>('filters');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
    this.layer.replaceChildren(
      ...info.layers.map((l, i) => {
        const o = document.createElement('option');
        o.value = String(i);
        o.textContent = `${l.name} [${l.shape.join('×')}]`;
        return o;
      }),
    );
    $('maps').replaceChildren(Object.assign(document.createElement('p'), { textContent: 'Classify an image first.' }));
  }

  async showLayer(): Promise<void> {
    const index = Number(this.layer.value);
    if (!Number.isInteger(index)) return;
    try {
      const maps = await this.engine.request({ type: 'features', layer: index });
      const hover = $('hover');
      const cells = Array.from({ length: maps.shape[0] ?? 0 }, (_, c) => {
        const { canvas, lo, hi } = channelCanvas(maps, c);
        canvas.dataset.channel = String(c);
        canvas.title = `channel ${c}: ${lo.toPrecision(4)} … ${hi.toPrecision(4)}`;
        canvas.addEventListener(
          'mouseenter',
          () => (hover.textContent = `${maps.name} channel ${c}: values ${lo.toPrecision(4)} … ${hi.toPrecision(4)}`),
        );
        return canvas;
      });
      $('maps').replaceChildren(...cells);
    } catch (err) {
      showMessage(messageOf(err));
    }
  }
}
