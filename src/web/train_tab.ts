// The Train tab: starts training in the engine with the chosen settings, charts the loss and the
// batch accuracy live (chart.js), stops on request, and downloads the trained weights as a .pth.
import { CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import type { DebugHook } from './debug_hook.js';
import { $, messageOf, showMessage } from './dom.js';
import type { Engine } from './engine_client.js';
import { PAGE_TRAIN_DEFAULTS, type TrainSettings } from './engine/train_session.js';
import type { ModelInfo } from './protocol.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

function numberField(id: string, fallback: number): number {
  const v = Number($<HTMLInputElement>(id).value);
  return Number.isFinite(v) ? v : fallback;
}

export class TrainTab {
  private readonly chart: Chart<'line', number[], number>;
  private readonly start = $<HTMLButtonElement>('train-start');
  private readonly stop = $<HTMLButtonElement>('train-stop');
  private readonly download = $<HTMLButtonElement>('train-download');

  constructor(
    private readonly engine: Engine,
    private readonly hook: DebugHook,
    private readonly onTrained: (info: ModelInfo) => void,
  ) {
    this.chart = new Chart($<HTMLCanvasElement>('train-chart'), {
      type: 'line',
      data: {
        labels: [],
        datasets: [
          { label: 'loss', data: [], borderColor: '#c0392b', yAxisID: 'loss', pointRadius: 0 },
          { label: 'batch accuracy', data: [], borderColor: '#1a56c4', yAxisID: 'accuracy', pointRadius: 0 },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: 'step' } },
          loss: { type: 'linear', position: 'left', title: { display: true, text: 'cross-entropy' } },
          accuracy: {
            type: 'linear',
            position: 'right',
            min: 0,
            max: 1,
            grid: { drawOnChartArea: false },
            title: { display: true, text: 'accuracy' },
          },
        },
      },
    });
    engine.onTrainStep = (p) => {
      this.hook.train.push(p);
      this.hook.version++;
      this.chart.data.labels!.push(p.step);
      this.chart.data.datasets[0]!.data.push(p.loss);
      this.chart.data.datasets[1]!.data.push(p.accuracy);
      this.chart.update();
      $('train-status').textContent =
        `step ${p.step}: loss ${p.loss.toFixed(4)}, batch accuracy ${(100 * p.accuracy).toFixed(1)} % (${p.ms.toFixed(0)} ms per step)`;
    };
    this.start.addEventListener('click', () => void this.run());
    this.stop.addEventListener('click', () => void engine.request({ type: 'stop' }));
    this.download.addEventListener('click', () => void this.save());
  }

  settings(): TrainSettings {
    const d = PAGE_TRAIN_DEFAULTS;
    return {
      ...d,
      seed: numberField('train-seed', d.seed),
      batchSize: numberField('train-batch', d.batchSize),
      subset: numberField('train-subset', d.subset),
      lr: numberField('train-lr', d.lr),
    };
  }

  async run(): Promise<void> {
    showMessage(null);
    this.hook.train = [];
    this.chart.data.labels = [];
    for (const ds of this.chart.data.datasets) ds.data = [];
    this.chart.update();
    this.start.disabled = true;
    this.stop.disabled = false;
    $('train-status').textContent = 'Loading Fashion-MNIST…';
    try {
      const steps = numberField('train-steps', 200);
      const r = await this.engine.request({ type: 'train', settings: this.settings(), steps });
      $('train-status').textContent += r.stopped ? ` — stopped after ${r.steps} steps` : ` — done (${r.steps} steps)`;
      this.download.disabled = false;
      this.onTrained(r.info);
    } catch (err) {
      showMessage(messageOf(err));
      $('train-status').textContent = '';
    } finally {
      this.start.disabled = false;
      this.stop.disabled = true;
    }
  }

  async save(): Promise<void> {
    try {
      const { chunks } = await this.engine.request({ type: 'download' });
      const url = URL.createObjectURL(new Blob(chunks as BlobPart[], { type: 'application/octet-stream' }));
      const a = Object.assign(document.createElement('a'), { href: url, download: 'alexnet-v1-fashion-mnist.pth' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      showMessage(messageOf(err));
    }
  }
}
