// The frameworks the benchmarks compare, each run in its own process (no thread pools competing)
// with the same threads: ours (`alexnet bench`), PyTorch in its fastest CPU modes
// (bench/torch_bench.py, best mode reported) and ONNX Runtime for Node (bench/ort_infer.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Precision } from '../src/backend/backend.js';
import type { BenchResult } from '../src/bench/model_bench.js';
import type { BenchModel } from './model_cost.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const python = process.env.ALEXNET_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

export type Mode = 'infer' | 'train';

/** One PyTorch mode's median, or why it could not run. */
export type ModeTiming = { ms_per_iter: number; img_per_s: number } | { error: string };

/** Which BLAS PyTorch's process loaded (torch_bench.py checks /proc/self/maps after a matmul). */
export interface BlasInfo {
  kind: 'openblas' | 'mkl' | 'blis' | 'reference' | 'unknown';
  libraries: string[];
  build_blas_info: string | null;
}

export interface Timing extends Omit<BenchResult, 'arch'> {
  arch: string;
  /** PyTorch: the fastest mode, whose numbers these are, and every mode's. */
  torch_mode?: string;
  modes?: Record<string, ModeTiming>;
  blas?: BlasInfo;
}

export type Row = Timing | { error: string };

export interface RunSpec {
  model: BenchModel;
  batch: number;
  mode: Mode;
  precision: Precision;
  threads: number;
  warmup: number;
  iters: number;
}

/** Runs a command in the repository root and parses the last JSON line it prints. */
export function runJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Row {
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) return { error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed' };
  const line = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) return { error: 'no JSON in output' };
  try {
    return JSON.parse(line) as Timing;
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export function ours(s: RunSpec): Row {
  const model = s.model === 'd2l' ? ['--preset', 'd2l'] : ['--arch', s.model];
  return runJson(process.execPath, [
    'bin/alexnet.js',
    'bench',
    ...model,
    '--batch',
    String(s.batch),
    '--mode',
    s.mode,
    '--precision',
    s.precision,
    '--threads',
    String(s.threads),
    '--iters',
    String(s.iters),
    '--warmup',
    String(s.warmup),
    '--json',
  ]);
}

/**
 * PyTorch's best mode (`modes` restricts the modes tried; see torch_bench.py for the list), run
 * with its OpenMP threads' default wait (libgomp spins about 3 ms before sleeping) and again with
 * OMP_WAIT_POLICY=passive, the faster of the two reported: PyTorch's linear layers run on
 * OpenBLAS's own threads, which spinning OpenMP threads may keep off the cores.
 */
export function torch(s: RunSpec, modes?: string[]): Row {
  const args = [
    'bench/torch_bench.py',
    s.model,
    String(s.batch),
    s.mode,
    s.precision,
    String(s.threads),
    String(s.warmup),
    String(s.iters),
    ...(modes ? ['--modes', modes.join(',')] : []),
  ];
  const spinning = runJson(python, args);
  const passive = runJson(python, args, { OMP_WAIT_POLICY: 'passive' });
  if ('error' in passive) return spinning;
  if ('error' in spinning || passive.img_per_s > spinning.img_per_s)
    return { ...passive, torch_mode: `${passive.torch_mode ?? ''}, OMP_WAIT_POLICY=passive` };
  return spinning;
}

/** ONNX Runtime f32 inference of an exported model (all graph optimisations, threads pinned to ours). */
export function ort(onnxFile: string | null, s: RunSpec): Row {
  if (!onnxFile) return { error: 'no ONNX export' };
  return runJson(process.execPath, [
    'dist/bench/ort_infer.js',
    onnxFile,
    s.model,
    String(s.batch),
    String(s.threads),
    String(s.warmup),
    String(s.iters),
  ]);
}

/** Which BLAS PyTorch loads here, or why that could not be found out. */
export function torchBlas(): BlasInfo | string {
  const r = spawnSync(python, ['bench/torch_bench.py', '--blas'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) return (r.stderr || `exit ${r.status}`).trim().split('\n').pop() ?? 'failed';
  return JSON.parse(r.stdout.trim()) as BlasInfo;
}

/** What to tell the reader about PyTorch's BLAS: one line, loud when it is not an optimised one. */
export function blasLine(b: BlasInfo | string): string {
  if (typeof b === 'string') return `PyTorch's BLAS: unknown (${b})`;
  const libs = b.libraries.join(', ') || 'none mapped';
  if (b.kind === 'reference')
    return `WARNING: PyTorch loads the netlib REFERENCE BLAS (${libs}); its f32 linear layers are 10-50× slower than on OpenBLAS, so torch_bench.py refuses to run: apt-get install libopenblas0-pthread`;
  return `PyTorch's BLAS: ${b.kind} (${libs}; built with BLAS_INFO=${b.build_blas_info ?? '?'}, loaded through libblas.so.3)`;
}

export const ms = (r: Row): number | null => ('error' in r ? null : r.ms_per_iter);
export const ips = (r: Row): number | null => ('error' in r ? null : r.img_per_s);
