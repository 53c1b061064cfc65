// The Classify tab: a dropped, picked or sample image goes to the engine; the page shows the image,
// the top-5 classes with probabilities and the time it took.
import { classNames } from './class_names.js';
import type { DebugHook } from './debug_hook.js';
import { $, messageOf, showMessage } from './dom.js';
import type { Engine } from './engine_client.js';

export const SAMPLES = ['cat', 'coffee', 'astronaut', 'rocket'];

function softmax(logits: Float32Array): Float64Array {
  const max = logits.reduce((a, b) => Math.max(a, b), -Infinity);
  const e = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

async function drawPreview(image: Blob): Promise<void> {
  const canvas = $<HTMLCanvasElement>('preview');
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const bitmap = await createImageBitmap(image);
  const s = Math.min(bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, (bitmap.width - s) / 2, (bitmap.height - s) / 2, s, s, 0, 0, canvas.width, canvas.height);
  bitmap.close();
}

export class ClassifyTab {
  constructor(
    private readonly engine: Engine,
    private readonly hook: DebugHook,
    private readonly onClassified: () => void,
  ) {
    const samples = $('samples');
    for (const name of SAMPLES) {
      const img = document.createElement('img');
      img.src = `/samples/${name}.jpg`;
      img.alt = name;
      img.title = `classify ${name}.jpg`;
      img.dataset.sample = name;
      img.addEventListener('click', () => void this.classifyUrl(`/samples/${name}.jpg`, `${name}.jpg`));
      samples.append(img);
    }
    const file = $<HTMLInputElement>('image-file');
    file.addEventListener('change', () => {
      const f = file.files?.[0];
      if (f) void this.classify(f);
      file.value = '';
    });
    const drop = $('drop');
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer?.files[0];
      if (f) void this.classify(f);
    });
  }

  async classifyUrl(url: string, name: string): Promise<void> {
    const blob = await (await fetch(url)).blob();
    await this.classify(new File([blob], name, { type: blob.type }));
  }

  async classify(image: File): Promise<void> {
    showMessage(null);
    try {
      const t0 = performance.now();
      const result = await this.engine.request({ type: 'classify', image });
      const totalMs = performance.now() - t0;
      const names = await classNames(result.logits.length);
      const probs = softmax(result.logits);
      const top5 = [...probs.keys()]
        .sort((a, b) => probs[b]! - probs[a]! || a - b)
        .slice(0, 5)
        .map((index) => ({ index, name: names[index] ?? String(index), probability: probs[index]! }));
      $('top5')
        .querySelector('tbody')!
        .replaceChildren(
          ...top5.map((p, k) => {
            const tr = document.createElement('tr');
            for (const text of [String(k + 1), p.name, `${(100 * p.probability).toFixed(2)} %`]) {
              const td = document.createElement('td');
              td.textContent = text;
              tr.append(td);
            }
            return tr;
          }),
        );
      $('timing').textContent =
        `${image.name}: ${totalMs.toFixed(0)} ms in all (preprocessing ${result.preprocessMs.toFixed(0)} ms, forward pass ${result.forwardMs.toFixed(0)} ms)`;
      const model = this.hook.model;
      const shape = model ? [model.inChannels, model.inputSize, model.inputSize] : [];
      this.hook.last = { ...result, shape, top5 };
      this.hook.version++;
      await drawPreview(image);
      this.onClassified();
    } catch (err) {
      showMessage(messageOf(err));
    }
  }
}
