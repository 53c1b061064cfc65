// Helpers for the server tests: a small RGB alexnet-v1 (10 classes, 96×96 inputs) written with
// deterministic weights, a real PNG bomb, `alexnet serve` started as a child process on a free
// port, and plain HTTP requests to it (node:http, one connection each unless an agent is given).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { writePth } from '../src/io/pth/index.js';
import { smallV1Shapes, tensorsFor } from './ckpt_fixtures.js';
import { root } from './train_helpers.js';

export const SAMPLES = ['cat', 'coffee', 'rocket', 'astronaut'].map((n) => join(root, 'data/samples', `${n}.jpg`));

export function sample(i = 0): Buffer {
  return readFileSync(SAMPLES[i % SAMPLES.length]!);
}

/** A small RGB alexnet-v1 state dict (10 classes) as DIR/small.pth. */
export function smallRgbModel(dir: string): string {
  const path = join(dir, 'small.pth');
  writePth(path, tensorsFor(smallV1Shapes(10, 3)));
  return path;
}

/**
 * A valid PNG of `width`×`height` 1-bit grey pixels, all black: a few hundred KB that decode to
 * width·height pixels (30000×30000: 900 million, 2.7 GB as RGB).
 */
export function pngBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0 and zero bits per row
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return png;
}

export interface Served {
  child: ChildProcess;
  base: string;
  /** Everything the server printed on stdout so far (its --json-log lines). */
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `alexnet serve ARGS --port 0 --json-log` and resolves once it says it is ready. */
export function startServer(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, ['bin/alexnet.js', 'serve', '--port', '0', '--json-log', ...args], {
    cwd: root,
    env: { ...process.env, OMP_NUM_THREADS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"ready: POST (http:\/\/[^/"]+)\/v1\/predict"/.exec(out);
      if (m) resolve({ child, base: m[1]!, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then(({ code }) => reject(new Error(`alexnet serve exited with ${code} before it was ready:\n${err}\n${out}`)));
  });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => unknown;
}

/** One HTTP request; rejects on a connection error (refused, reset). */
export function http(
  url: string,
  opts: { method?: string; body?: Uint8Array; headers?: Record<string, string>; agent?: Agent | false } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method ?? (opts.body ? 'POST' : 'GET'), headers: opts.headers, agent: opts.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(parts).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as unknown });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The top class of a /v1/predict answer. */
export function top1(a: Answer): number {
  const j = a.json() as { predictions: { index: number }[] };
  return j.predictions[0]?.index ?? -1;
}

/** The value of a Prometheus sample line `name{labels} value` (the first match; NaN if absent). */
export function metric(text: string, name: string, labels = ''): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + (labels ? `{${labels}}` : ' ')) || (!labels && line.startsWith(`${name}{`)))
      return Number(line.split(' ').pop());
  }
  return NaN;
}

/** A multipart/form-data body with one file part per entry. */
export function multipart(files: { name: string; bytes: Uint8Array }[]): { body: Buffer; contentType: string } {
  const boundary = '----alexnet-test-boundary-7d1c';
  const parts = files.flatMap((f, i) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image${i}"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    Buffer.from(f.bytes),
    Buffer.from('\r\n'),
  ]);
  return { body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}
