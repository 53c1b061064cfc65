// Progress while training: a cli-progress bar per epoch (loss, running top-1, images/s, ETA)
// when stdout is a terminal, plain lines every few seconds otherwise (CI logs), and one summary
// line per epoch.
import cliProgress from 'cli-progress';

export interface StepStats {
  loss: number;
  top1: number;
  imgPerS: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export class EpochProgress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = 0;
  private readonly started = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    startAt: number,
    private readonly out: NodeJS.WriteStream = process.stdout,
    private readonly intervalS = 10,
  ) {
    if (out.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} [{bar}] {value}/{total} | loss {loss} | top-1 {top1} | {ips} img/s | ETA {eta_formatted}`,
          barsize: 24,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
          stream: out,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, startAt, { loss: '-', top1: '-', ips: '-' });
    }
    this.lastLine = performance.now();
  }

  update(done: number, s: StepStats): void {
    const payload = { loss: s.loss.toFixed(4), top1: `${(100 * s.top1).toFixed(1)}%`, ips: s.imgPerS.toFixed(0) };
    if (this.bar) {
      this.bar.update(done, payload);
      return;
    }
    const now = performance.now();
    if (now - this.lastLine < this.intervalS * 1000 && done !== this.total) return;
    this.lastLine = now;
    const rate = done / ((now - this.started) / 1000);
    const eta = rate > 0 ? (this.total - done) / rate : Infinity;
    this.out.write(
      `${this.label} step ${done}/${this.total} loss ${payload.loss} top-1 ${payload.top1} ${payload.ips} img/s ETA ${formatDuration(eta)}\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
