// Per-layer f32 vs bf16 timing of AlexNet's convolutions and FC layers on the native backend:
// forward, backward data and backward weights, median of a few runs after warm-up, including the
// bf16 conversions a training step pays (weights re-converted after each SGD write).
// Its measurements are in BENCHMARKS.md (bf16 is one switch: every layer and pass, or none).
//   node dist/bench/precision_probe.js [--batch 64] [--reps 3] [--arch alexnet]
import type { Backend, ConvGeometry, Storage } from '../src/backend/backend.js';
import { convGeometry } from '../src/backend/conv_util.js';
import { tryLoadNative } from '../src/backend/native/load.js';
import { NativeBackend } from '../src/backend/native/native_backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { median } from '../src/bench/model_bench.js';
import { CONV_LAYERS as LAYERS, type ConvLayer } from './layers.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? fallback;
}

const batch = Number(arg('batch', '64'));
const reps = Number(arg('reps', '3'));
const arch = arg('arch', 'alexnet');

function fill(be: Backend, n: number, shape: number[], scale: number): Storage {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37) * scale;
  return be.fromArray(a, shape);
}

/** Median ms of fn over reps after one warm-up; `touch` rewrites the weights first (as SGD does). */
function time(fn: () => Storage[], touch: () => void, be: Backend): number {
  const ts: number[] = [];
  for (let r = 0; r <= reps; r++) {
    touch();
    const t0 = performance.now();
    const out = fn();
    const ms = performance.now() - t0;
    for (const s of out) be.dispose(s);
    if (r > 0) ts.push(ms);
  }
  return median(ts);
}

function probeConv(be: Backend, l: ConvLayer): { fwd: number; bwdData: number; bwdWeights: number; g: ConvGeometry } {
  const xs = [batch, l.c, l.hw, l.hw];
  const ws = [l.oc, l.c / l.g, l.k, l.k];
  const g = convGeometry(xs, ws, [l.s, l.s], [l.p, l.p], l.g);
  const x = fill(
    be,
    xs.reduce((a, b) => a * b),
    xs,
    1,
  );
  const w = fill(
    be,
    ws.reduce((a, b) => a * b),
    ws,
    0.05,
  );
  const b = fill(be, l.oc, [l.oc], 0.1);
  const ys = [batch, l.oc, g.oh, g.ow];
  const gy = fill(
    be,
    ys.reduce((a, c) => a * c),
    ys,
    0.01,
  );
  const zero = be.full([ws.reduce((a, c) => a * c)], 0, 'float32');
  const touch = () => be.axpyInPlace(w, zero, 1, [ws.reduce((a, c) => a * c)]);
  const fwd = time(() => [be.conv2d(x, w, b, g, true)], touch, be);
  const bwdData = time(() => [be.conv2dBackwardData(gy, w, g)], touch, be);
  const bwdWeights = time(
    () => {
      const r = be.conv2dBackwardWeights(gy, x, g, true);
      return [r.gw, r.gb!];
    },
    touch,
    be,
  );
  for (const s of [x, w, b, gy, zero]) be.dispose(s);
  return { fwd, bwdData, bwdWeights, g };
}

function main(): void {
  const f32 = tryLoadNative({ precision: 'f32' }).backend;
  if (!(f32 instanceof NativeBackend)) throw new Error('native addon unavailable');
  if (!f32.addon.info().bf16) throw new Error('this CPU has no native bf16');
  const bf16 = new NativeBackend(f32.addon, new ReferenceBackend(), 'bf16');
  const layers = LAYERS[arch];
  if (!layers) throw new Error(`unknown arch ${arch}`);
  console.log(`${arch}, batch ${batch}, ms (median of ${reps}), f32 → bf16`);
  console.log('layer  | forward          | backward data    | backward weights');
  for (const l of layers) {
    const a = probeConv(f32, l);
    const b = probeConv(bf16, l);
    const cell = (x: number, y: number) => `${x.toFixed(1).padStart(6)} → ${y.toFixed(1).padStart(6)}`.padEnd(16);
    console.log(`${l.name.padEnd(6)} | ${cell(a.fwd, b.fwd)} | ${cell(a.bwdData, b.bwdData)} | ${cell(a.bwdWeights, b.bwdWeights)}`);
  }
}

main();
