// Helpers for the train/eval/predict tests: a tiny Fashion-MNIST (the first images of Debian's
// dataset-fashion-mnist, or synthetic images when it is not installed) written as IDX files, and
// running the CLI as a child process on the reference backend.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const DEBIAN = '/usr/share/datasets/fashion-mnist';

const temps: string[] = [];
process.on('exit', () => {
  // Checkpoints are large: never leave them in /tmp.
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A new temporary folder, removed when the test process exits. */
export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `alexnet-${tag}-`));
  temps.push(d);
  return d;
}

function idx(type: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return gzipSync(Buffer.concat([head, data]));
}

function takeImages(file: string, n: number): Uint8Array {
  const raw = gunzipSync(readFileSync(file));
  return raw.subarray(16, 16 + n * 784);
}

function takeLabels(file: string, n: number): Uint8Array {
  return gunzipSync(readFileSync(file)).subarray(8, 8 + n);
}

/** Writes a Fashion-MNIST-shaped dataset with `train` and `test` images into a new folder. */
export function tinyFashionMnist(train: number, test: number): string {
  const dir = tempDir('fmnist');
  const real = existsSync(join(DEBIAN, 'train-images-idx3-ubyte.gz'));
  const make = (prefix: string, n: number, source: string): void => {
    let images: Uint8Array;
    let labels: Uint8Array;
    if (real) {
      images = takeImages(join(DEBIAN, `${source}-images-idx3-ubyte.gz`), n);
      labels = takeLabels(join(DEBIAN, `${source}-labels-idx1-ubyte.gz`), n);
    } else {
      images = new Uint8Array(n * 784);
      labels = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const label = i % 10;
        labels[i] = label;
        for (let p = 0; p < 784; p++) images[i * 784 + p] = (p * (i + 3) + label * 37) & 255;
      }
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), idx(8, [n, 28, 28], images));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), idx(8, [n], labels));
  };
  make('train', train, 'train');
  make('t10k', test, 't10k');
  return dir;
}

const ENV = { ALEXNET_BACKEND: 'reference', OMP_NUM_THREADS: '1' };

export function runCli(args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['bin/alexnet.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...ENV, ...env },
    maxBuffer: 64 << 20,
  });
}

export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['bin/alexnet.js', ...args], {
    cwd: root,
    env: { ...process.env, ...ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the exit code (or signal name) and the output of a child. */
export function finished(child: ChildProcess): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** /usr/bin/python3 with torch, or the reason it cannot be used. */
export function torchPython(): { python: string | null; reason: string } {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return { python: null, reason: `${python} not found` };
  const r = spawnSync(python, ['-c', 'import torch, torchvision, numpy'], { encoding: 'utf8' });
  if (r.status !== 0)
    return { python: null, reason: `${python} has no torch/torchvision/numpy (${(r.stderr || '').trim().split('\n').pop()})` };
  return { python, reason: '' };
}

/** The common small training run of these tests (tiny model input, few images, reference backend). */
export function smallRunArgs(data: string, out: string, extra: string[] = []): string[] {
  // A per-epoch step schedule, so that runs planned for different numbers of epochs share their
  // learning rates (the quick start's linear decay depends on the planned length).
  return [
    'train',
    '--dataset',
    `fashion-mnist=${data}`,
    '--arch',
    'alexnet-v1',
    '--input-size',
    '65',
    '--batch-size',
    '4',
    '--seed',
    '7',
    '--schedule',
    'step',
    '--out',
    out,
    ...extra,
  ];
}

export function ensureDir(p: string): string {
  mkdirSync(p, { recursive: true });
  return p;
}
