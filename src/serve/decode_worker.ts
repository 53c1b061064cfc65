// Worker-thread entry of the server's decode pool: image bytes → the model's input tensor
// (./preprocess.ts), one task at a time. The values go into the task's shared slot
// (./input_slots.ts) when it has one and the input fits, else into a new buffer transferred back.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { preprocessFailure, preprocessor, type PreprocessSpec } from './preprocess.js';

export type DecodeInit = PreprocessSpec;

export interface DecodeTask {
  type: 'task';
  id: number;
  bytes: Uint8Array;
  name: string;
  /** The shared slot to write into (shared earlier by a SlotMessage), or null. */
  slot: number | null;
}

/** A new shared slot, sent to every worker before any task that uses it. */
export interface SlotMessage {
  type: 'slot';
  id: number;
  buffer: SharedArrayBuffer;
}

export type DecodeReply =
  | { id: number; ok: true; inSlot: true; shape: number[] }
  | { id: number; ok: true; inSlot: false; x: Float32Array; shape: number[] }
  | { id: number; ok: false; kind: string; message: string; userError: boolean };

const port = parentPort;
if (!port) throw new Error('src/serve/decode_worker.js must run as a worker thread');
// Parallelism comes from the pool: one libvips thread per worker, and no cache (each image once).
sharp.concurrency(1);
sharp.cache(false);
const preprocess = preprocessor(workerData as DecodeInit);
const slots = new Map<number, Float32Array>();
port.postMessage('ready');

port.on('message', (msg: DecodeTask | SlotMessage) => {
  if (msg.type === 'slot') {
    slots.set(msg.id, new Float32Array(msg.buffer));
    return;
  }
  const task = msg;
  void (async (): Promise<void> => {
    try {
      const out = task.slot === null ? undefined : slots.get(task.slot);
      const { x, shape } = await preprocess(task.bytes, task.name, out);
      if (out !== undefined && x === out) {
        const reply: DecodeReply = { id: task.id, ok: true, inSlot: true, shape };
        port.postMessage(reply);
      } else {
        const reply: DecodeReply = { id: task.id, ok: true, inSlot: false, x, shape };
        port.postMessage(reply, [x.buffer as ArrayBuffer]);
      }
    } catch (err) {
      // A DataError is the image's fault (the client's: 415/422); anything else is a bug (500).
      const reply: DecodeReply = { id: task.id, ok: false, ...preprocessFailure(err) };
      port.postMessage(reply);
    }
  })();
});
