// Making a prepared dataset: decode every image of a folder once, resize its shorter side to
// `size` and take the central size×size square (the paper's 256×256 images), in worker threads,
// and stream the bytes into one file (see prepared.ts for the format). Whatever stops it (an
// error, --strict, SIGINT/SIGTERM, process.exit) removes the temporary file.
import { resolve } from 'node:path';
import { BrokenInputLog } from './broken_inputs.js';
import { ImageFolder } from './image_folder.js';
import { DataLoader } from './loader.js';
import { PreparedWriter, type PreparedHeader } from './prepared.js';
import { T } from './transforms.js';

export interface PrepareOptions {
  out: string;
  /** Side of the stored squares (256). */
  size?: number;
  /** 3 (RGB) or 1 (grayscale). */
  channels?: 1 | 3;
  workers?: number;
  strict?: boolean;
  autoOrient?: boolean;
  /** Refuse (skip) images with more pixels than this, or whose resize would have more (PIL's MAX_IMAGE_PIXELS). */
  maxPixels?: number;
  /** 'pillow' (default): torchvision's resize bit for bit; 'libvips': in the decoder, much faster on large photos. */
  resampler?: 'pillow' | 'libvips';
  log?: (line: string) => void;
  /** Called after each batch with (images done, images total). */
  progress?: (done: number, total: number) => void;
}

export interface PrepareReport {
  header: PreparedHeader;
  broken: BrokenInputLog;
  seconds: number;
}

export async function prepareDataset(root: string, options: PrepareOptions): Promise<PrepareReport> {
  const start = Date.now();
  const size = options.size ?? 256;
  const channels = options.channels ?? 3;
  const broken = new BrokenInputLog({ strict: options.strict, log: options.log });
  const dataset = ImageFolder.open(root, { channels, autoOrient: options.autoOrient, maxPixels: options.maxPixels, broken });
  const loader = new DataLoader(dataset, {
    batchSize: 32,
    workers: options.workers ?? 2,
    broken,
    transforms: [T.resize(size, options.resampler ?? 'pillow'), T.centerCrop(size)],
  });
  const writer = new PreparedWriter(options.out, { height: size, width: size, channels });
  const releaseSignals = abortOnSignals(writer);
  let done = 0;
  try {
    for await (const b of loader.iterateRaw(0)) {
      if (!(b.x instanceof Uint8Array)) throw new Error('prepare: expected uint8 batches');
      writer.append(b.x, b.y);
      done += b.y.length + b.skipped;
      options.progress?.(done, dataset.length);
    }
    const header = writer.finish({
      classes: dataset.classes.slice(),
      source: resolve(root),
      skipped: broken.items().map((it) => it.path),
    });
    return { header, broken, seconds: (Date.now() - start) / 1000 };
  } catch (err) {
    writer.abort();
    throw err;
  } finally {
    releaseSignals();
    await loader.close();
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Until the returned function is called: SIGINT or SIGTERM removes the writer's temporary file
 * and then ends the process as the signal would have; process.exit removes it too.
 */
function abortOnSignals(writer: PreparedWriter): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    writer.abort();
    release();
    process.kill(process.pid, signal);
  };
  const onExit = (): void => writer.abort();
  const release = (): void => {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('exit', onExit);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
  return release;
}
