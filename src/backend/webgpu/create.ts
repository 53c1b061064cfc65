// Assembles a webgpu backend on either platform: the status block, the worker (spawned by the
// platform's function), the channel over it, and, once the worker says it is ready, the client.
import type { Precision } from '../backend.js';
import { DeviceError, UsageError } from '../../errors.js';
import { ReferenceBackend } from '../reference/index.js';
import { Channel, type ChannelOptions, type WorkerPort } from './channel.js';
import { FAILED, READY, STATE, STATUS_BYTES, readFailure, writeFailure, type GpuWorkerInit } from './protocol.js';
import { WEBGPU_PRECISIONS, WebGpuBackend, type WebGpuPrecision } from './webgpu_backend.js';

export interface WebGpuOptions extends ChannelOptions {
  /** 'f32' (default), or 'f16': the weights of convolutions and linear layers read as f16 (docs/WEBGPU.md); 'bf16' is refused. */
  precision?: Precision;
  /** How long the worker may take to find its adapter and device (ms, default 60 s). */
  startMs?: number;
  /** Where the worker's module is (browsers: a bundle may put it elsewhere). */
  workerUrl?: URL;
}

/** How long a process's exit waits for the GPU worker to stop between two commands (then it exits regardless). */
const EXIT_QUIET_MS = 5000;

/** A worker being started: its channel, and the state word to wait on. */
export interface Starting {
  channel: Channel;
  words: Int32Array;
  startMs: number;
  precision: WebGpuPrecision;
}

/** The precision asked for, checked (a UsageError for one this backend does not compute in). */
export function webGpuPrecision(asked: string | undefined): WebGpuPrecision {
  const p = asked ?? 'f32';
  if (!(WEBGPU_PRECISIONS as readonly string[]).includes(p))
    throw new UsageError(`the webgpu backend computes in f32, or with f16 weights (precision f16): precision ${p} is not supported`);
  return p as WebGpuPrecision;
}

export function spawn(opts: WebGpuOptions, start: (init: GpuWorkerInit, onExit: (why: string) => void) => WorkerPort): Starting {
  const precision = webGpuPrecision(opts.precision);
  const status = new SharedArrayBuffer(STATUS_BYTES);
  let channel: Channel | null = null;
  const port = start({ status, largeBuffers: true }, (why) => (channel ? channel.fail(why) : writeFailure(status, why)));
  channel = new Channel(status, port, opts);
  const c = channel;
  port.atProcessExit?.(() => c.quiet(EXIT_QUIET_MS));
  return { channel, words: new Int32Array(status), startMs: opts.startMs ?? 60_000, precision };
}

/** The backend once the worker is ready; its failure (no adapter, say) as a DeviceError. */
export function finish(s: Starting, waitedMs: number): WebGpuBackend {
  const state = Atomics.load(s.words, STATE);
  if (state === FAILED) throw new DeviceError(`webgpu backend unavailable: ${readFailure(s.channel.status)}`);
  if (state !== READY) {
    s.channel.fail(`the WebGPU worker did not start within ${Math.round(waitedMs / 1000)} s`);
    throw new DeviceError(`webgpu backend unavailable: ${readFailure(s.channel.status)}`);
  }
  return new WebGpuBackend(s.channel, new ReferenceBackend(), s.precision);
}
