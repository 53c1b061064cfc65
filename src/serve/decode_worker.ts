// Worker-thread entry of the server's decode pool: image bytes → the model's input tensor
// (./preprocess.ts), one task at a time, the tensor's buffer transferred back.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { BadImageError } from '../data/decode.js';
import { DataError } from '../errors.js';
import { preprocessor, type PreprocessSpec } from './preprocess.js';

export type DecodeInit = PreprocessSpec;

export interface DecodeTask {
  id: number;
  bytes: Uint8Array;
  name: string;
}

export type DecodeReply =
  { id: number; ok: true; x: Float32Array; shape: number[] } | { id: number; ok: false; kind: string; message: string; userError: boolean };

const port = parentPort;
if (!port) throw new Error('src/serve/decode_worker.js must run as a worker thread');
// Parallelism comes from the pool: one libvips thread per worker, and no cache (each image once).
sharp.concurrency(1);
sharp.cache(false);
const preprocess = preprocessor(workerData as DecodeInit);
port.postMessage('ready');

port.on('message', (task: DecodeTask) => {
  void (async (): Promise<void> => {
    try {
      const { x, shape } = await preprocess(task.bytes, task.name);
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
