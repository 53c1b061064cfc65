// Worker-thread entry of the server's decode pool: image bytes → the model's input tensor, by the
// same decoder and preprocessing as `alexnet predict` (decodeImage, then inputFromPixels), to the
// same values. The header is checked against the pixel limit before anything is decoded.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { BadImageError, decodeImage, type RegionPicker } from '../data/decode.js';
import { resizeTarget, type TransformSpec } from '../data/index.js';
import { DataError } from '../errors.js';
import { inputFromPixels } from '../train/predict.js';
import type { ModelInfo } from '../train/weights.js';

export interface DecodeInit {
  info: ModelInfo;
  transforms: TransformSpec[];
  maxPixels: number;
}

export interface DecodeTask {
  id: number;
  bytes: Uint8Array;
  name: string;
}

export type DecodeReply =
  { id: number; ok: true; x: Float32Array; shape: number[] } | { id: number; ok: false; kind: string; message: string; userError: boolean };

const init = workerData as DecodeInit;
const port = parentPort;
if (!port) throw new Error('src/serve/decode_worker.js must run as a worker thread');
// Parallelism comes from the pool: one libvips thread per worker, and no cache (each image once).
sharp.concurrency(1);
sharp.cache(false);

// A leading Resize is done by the decoder, as the DataLoader does it: a JPEG is decoded and resized
// in one native call (libjpeg-turbo and PIL's bilinear: the same pixels as decoding, then resizing
// in TypeScript as `alexnet predict` does, several times faster).
const [first, ...rest] = init.transforms;
const firstResize: RegionPicker | undefined =
  first?.type === 'resize'
    ? (width, height) => ({
        box: { left: 0, top: 0, width, height },
        ...resizeTarget(first.size, width, height),
        resampler: first.resampler,
      })
    : undefined;

port.on('message', (task: DecodeTask) => {
  void (async (): Promise<void> => {
    try {
      const channels = init.info.inChannels === 1 ? 1 : 3;
      const img = await decodeImage(task.bytes, task.name, { channels, maxPixels: init.maxPixels }, firstResize);
      const { x, shape } = inputFromPixels(img, task.name, init.info, firstResize ? rest : init.transforms);
      const reply: DecodeReply = { id: task.id, ok: true, x, shape };
      port.postMessage(reply, [x.buffer as ArrayBuffer]);
    } catch (err) {
      const kind = err instanceof BadImageError ? err.kind : 'unusable';
      const message = err instanceof Error ? err.message : String(err);
      // A DataError is the image's fault (the client's: 415/422); anything else is a bug (500).
      const reply: DecodeReply = { id: task.id, ok: false, kind, message, userError: err instanceof DataError };
      port.postMessage(reply);
    }
  })();
});
