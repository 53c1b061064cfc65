// `alexnet prepare DATA_DIR --out FILE [--size 256]`: decode an image folder once into a
// prepared dataset (shorter side → size, central size×size square, uint8), which training then
// reads at memory speed. Broken files are skipped and listed (or, with --strict, stop the run).
import type { Command } from 'commander';
import { DEFAULT_MAX_PIXELS, prepareDataset } from '../../data/index.js';
import { parseChoice, parsePositiveInt, parseWorkers } from '../args.js';

interface PrepareFlags {
  out: string;
  size: number;
  workers: number;
  strict?: boolean;
  grayscale?: boolean;
  autoOrient?: boolean;
  maxPixels: number;
  resampler: 'pillow' | 'libvips';
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('prepare')
    .description('decode and resize an image folder (DATA_DIR/<class>/<image>) once into one file')
    .argument('<data-dir>', 'image folder, one sub-folder per class')
    .requiredOption('--out <file>', 'prepared dataset to write')
    .option('--size <n>', 'side of the stored square images (shorter side resize + center crop)', parsePositiveInt, 256)
    .option('--workers <n>', 'decoding threads', parseWorkers, 2)
    .option('--strict', 'stop at the first broken or unreadable file instead of skipping it')
    .option('--grayscale', 'store one channel (PIL "L") instead of RGB')
    .option('--auto-orient', 'apply EXIF orientation (torchvision does not)')
    .option(
      '--max-pixels <n>',
      "skip images with more pixels than this, decoded or resized (PIL's MAX_IMAGE_PIXELS)",
      parsePositiveInt,
      DEFAULT_MAX_PIXELS,
    )
    .option(
      '--resampler <name>',
      "pillow (torchvision's resize, exact) or libvips (native, faster on large photos)",
      parseChoice(['pillow', 'libvips'] as const),
      'pillow',
    )
    .option('--quiet', 'no progress line')
    .action(async (dataDir: string, flags: PrepareFlags) => {
      const tty = process.stderr.isTTY === true;
      let lastShown = -1;
      const report = await prepareDataset(dataDir, {
        out: flags.out,
        size: flags.size,
        channels: flags.grayscale ? 1 : 3,
        workers: flags.workers,
        strict: flags.strict,
        autoOrient: flags.autoOrient,
        maxPixels: flags.maxPixels,
        resampler: flags.resampler,
        log: (line) => process.stderr.write((tty ? '\r\x1b[K' : '') + line + '\n'),
        progress: flags.quiet
          ? undefined
          : (done, total) => {
              const pct = Math.floor((100 * done) / total);
              if (tty) process.stderr.write(`\r\x1b[Kprepare: ${done}/${total} images (${pct}%)`);
              else if (pct >= lastShown + 10 || done === total) {
                lastShown = pct;
                process.stderr.write(`prepare: ${done}/${total} images (${pct}%)\n`);
              }
            },
      });
      if (tty && !flags.quiet) process.stderr.write('\r\x1b[K');
      const h = report.header;
      const rate = h.count / Math.max(report.seconds, 1e-9);
      process.stdout.write(
        `prepared ${h.count} images (${h.height}x${h.width}x${h.channels}) of ${h.classes.length} classes into ${flags.out} ` +
          `in ${report.seconds.toFixed(1)} s (${rate.toFixed(0)} images/s)\n`,
      );
      const summary = report.broken.summary();
      if (summary) process.stderr.write(summary + '\n');
    });
}
