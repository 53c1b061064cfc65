// What a download shows while it runs: a cli-progress bar (MB, speed, ETA) when stderr is a
// terminal, nothing in between otherwise (CI logs get only the start and end lines, written by
// download.ts). Output goes to stderr so that `predict --json` keeps a clean stdout.
import cliProgress from 'cli-progress';

export interface DownloadProgress {
  /** `bytes` received so far. */
  update(bytes: number): void;
  /** Removes the bar (before a final line, an error or an exit). */
  stop(): void;
}

const MB = 1024 * 1024;

const mb = (bytes: number): string => (bytes / MB).toFixed(1);

/** A bar for a download of `total` bytes (null: unknown) on `out`, or a silent one when that is not a terminal. */
export function downloadProgress(label: string, total: number | null, out: NodeJS.WriteStream = process.stderr): DownloadProgress {
  if (!out.isTTY) return { update: () => {}, stop: () => {} };
  const started = performance.now();
  const sized = total !== null && total > 0;
  const bar = new cliProgress.SingleBar(
    {
      format: sized
        ? `${label} [{bar}] {percentage}% | {done}/{size} MB | {speed} MB/s | ETA {eta_formatted}`
        : `${label} {done} MB | {speed} MB/s`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      stream: out,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(sized ? total : 0, 0, { done: '0.0', size: sized ? mb(total) : '?', speed: '-' });
  let stopped = false;
  return {
    update(bytes) {
      const seconds = (performance.now() - started) / 1000;
      bar.update(sized ? bytes : 0, { done: mb(bytes), speed: seconds > 0 ? (bytes / MB / seconds).toFixed(1) : '-' });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
