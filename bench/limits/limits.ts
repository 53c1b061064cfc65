// The machine's limits (bench/limits/limits.cpp), built on demand with g++ against libdnnl into
// build/limits/ and run in its own process: f32 FMA, bf16 and int8 dot-product peaks (instruction
// loop and oneDNN matmul) and the memory read bandwidth, on the bench's threads.
//   node dist/bench/limits/limits.js [--threads T] [--quick]     prints the JSON
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const source = path.join(root, 'bench/limits/limits.cpp');
const binary = path.join(root, 'build/limits/limits');

/** What limits.cpp prints; rates in G(FL)OP/s and GB/s, null where the CPU lacks the instructions. */
export interface MachineLimits {
  threads: number;
  quick: boolean;
  onednn: string;
  cpu: { avx512f: boolean; avx512_bf16: boolean; avx512_vnni: boolean; avx_vnni: boolean };
  f32_fma_loop_gflops: number;
  f32_matmul_gflops: number;
  f32_matmul_impl: string;
  bf16_dot_loop_gflops: number | null;
  bf16_matmul_gflops: number | null;
  bf16_matmul_impl: string;
  int8_dot_loop_gops: number | null;
  int8_matmul_gops: number | null;
  int8_matmul_impl: string;
  matmul_n: number;
  read_gbps: number;
  read_bytes: number;
}

export type LimitKind = 'f32' | 'bf16' | 'int8';

/**
 * The arithmetic limit of one kind in GFLOP/s: the faster of the instruction loop (what the cores
 * issue) and oneDNN's large matmul (on AMX machines the matmul's tiles beat any vector loop).
 */
export function peakOf(l: MachineLimits, kind: LimitKind): number | null {
  const pair =
    kind === 'f32'
      ? [l.f32_fma_loop_gflops, l.f32_matmul_gflops]
      : kind === 'bf16'
        ? [l.bf16_dot_loop_gflops, l.bf16_matmul_gflops]
        : [l.int8_dot_loop_gops, l.int8_matmul_gops];
  const known = pair.filter((v): v is number => typeof v === 'number' && v > 0);
  return known.length ? Math.max(...known) : null;
}

/** Compiles limits.cpp when the binary is missing or older than its source; throws with g++'s message. */
function build(): void {
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return;
  mkdirSync(path.dirname(binary), { recursive: true });
  const r = spawnSync('g++', ['-O2', '-std=c++17', '-fopenmp', source, '-ldnnl', '-o', binary], { encoding: 'utf8' });
  if (r.error) throw new Error(`limits: cannot run g++ (${r.error.message}); install g++ and libdnnl-dev`);
  if (r.status !== 0) throw new Error(`limits: g++ failed: ${(r.stderr || '').trim().split('\n').slice(0, 3).join(' ')}`);
}

/** Builds (if needed) and runs the limits program; a few seconds (quick) to about 20 s. */
export function measureLimits(threads: number, quick: boolean): MachineLimits {
  build();
  const args = [String(threads), ...(quick ? ['--quick'] : [])];
  const r = spawnSync(binary, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`limits: ${(r.stderr || `exit ${r.status}`).trim()}`);
  return JSON.parse(r.stdout.trim()) as MachineLimits;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--threads');
  const threads = i >= 0 ? Number(process.argv[i + 1]) : availableParallelism();
  console.log(JSON.stringify(measureLimits(threads, process.argv.includes('--quick')), null, 2));
}
