// Child process of test/native_hostile.test.ts: calls the addon (path in argv[2]) directly with
// hostile dims, geometry and numbers, and prints one JSON line: for each case, the error it threw
// (or 'no error'). A native crash kills this process with a signal, which the parent detects.
import { createRequire } from 'node:module';
import type { NativeAddon } from '../src/backend/native/addon.js';

const file = process.argv[2];
if (!file) throw new Error('usage: native_hostile_child ADDON_PATH');
const addon = createRequire(import.meta.url)(file) as NativeAddon;

/** Calls through an untyped view: the point is to pass what the types forbid. */
const raw = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
const call = (name: string, ...args: unknown[]) => raw[name]!(...args);

const x = addon.fromArray(new Float32Array(6), [2, 3]);
const w = addon.fromArray(new Float32Array(12), [4, 3]);
const img = addon.fromArray(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8]);
const cw = addon.fromArray(new Float32Array(4 * 3 * 3 * 3), [4, 3, 3, 3]);
const conv = { n: 2, c: 3, h: 8, w: 8, oc: 4, kh: 3, kw: 3, oh: 6, ow: 6, strideH: 1, strideW: 1, padH: 0, padW: 0, groups: 1 };
const pool = { n: 2, c: 3, h: 8, w: 8, kh: 3, kw: 3, oh: 3, ow: 3, strideH: 2, strideW: 2, padH: 0, padW: 0, padBottom: 0, padRight: 0 };
const [, poolWs] = addon.maxPool2d(img, pool, { training: true });
const huge = 2 ** 62;

const cases: Record<string, () => unknown> = {
  'full [2^62, 4]': () => call('full', [huge, 4], 0),
  'full [2^31, 2^31, 4]': () => call('full', [2 ** 31, 2 ** 31, 4], 0),
  'full [1.5]': () => call('full', [1.5], 0),
  'full [-1]': () => call('full', [-1], 0),
  'full [NaN]': () => call('full', [NaN], 0),
  'full [Infinity]': () => call('full', [Infinity], 0),
  'full ["4"]': () => call('full', ['4'], 0),
  'fromArray [2^62, 4]': () => call('fromArray', new Float32Array(4), [huge, 4]),
  'reshape [2^62, 4]': () => call('reshape', x, [huge, 4]),
  'linear m = 2^62': () => call('linear', x, w, null, { m: huge, k: 3, n: 4 }, {}),
  'linear m larger than the input': () => call('linear', x, w, null, { m: 4, k: 3, n: 4 }, {}),
  'linear row, n larger than the weight': () =>
    call('linear', addon.fromArray(new Float32Array(3), [1, 3]), w, null, { m: 1, k: 3, n: 9 }, {}),
  'linear without geometry': () => call('linear', x, w, null, [2, 3, 4], {}),
  'linearBackwardWeights k lies': () => call('linearBackwardWeights', x, x, { m: 2, k: 3000, n: 3 }, {}),
  'logSoftmax n = 2^62': () => call('logSoftmax', x, huge, 4),
  'logSoftmax n·c > size': () => call('logSoftmax', x, 3, 3),
  'logSoftmax n = -1': () => call('logSoftmax', x, -1, -6),
  'softmaxCrossEntropy n = 2^53': () => call('softmaxCrossEntropy', x, new Int32Array(2), 2 ** 53, 1),
  'conv2d n = 2^62': () => call('conv2d', img, cw, null, { ...conv, n: huge }, {}),
  'conv2d input larger than the buffer': () => call('conv2d', img, cw, null, { ...conv, h: 80, oh: 78 }, {}),
  'conv2d weight larger than the buffer': () => call('conv2d', img, cw, null, { ...conv, oc: 40 }, {}),
  'conv2d groups do not divide': () => call('conv2d', img, cw, null, { ...conv, groups: 2 }, {}),
  'conv2d missing field': () => call('conv2d', img, cw, null, { ...conv, strideW: undefined }, {}),
  'conv2d negative padding': () => call('conv2d', img, cw, null, { ...conv, padH: -1, oh: 4 }, {}),
  'conv2dBackwardData gradient too small': () => call('conv2dBackwardData', x, cw, conv, {}),
  'maxPool2d output larger than the input allows': () => call('maxPool2d', img, { ...pool, oh: 300 }, {}),
  'maxPool2d padding as large as the kernel': () => call('maxPool2d', img, { ...pool, padH: 3, oh: 5 }, {}),
  'maxPool2d c lies': () => call('maxPool2d', img, { ...pool, c: 300 }, {}),
  'maxPool2dBackward workspace of another buffer': () => call('maxPool2dBackward', addon.full([2, 3, 3, 3], 1), img, x, pool),
  'maxPool2dBackward with its workspace and a lying n': () =>
    call('maxPool2dBackward', addon.full([2, 3, 3, 3], 1), img, poolWs, { ...pool, n: 20 }),
  'adaptiveAvgPool2d output 2^40 x 2^40': () => call('adaptiveAvgPool2d', img, { n: 2, c: 3, h: 8, w: 8, oh: 2 ** 40, ow: 2 ** 40 }),
  'adaptiveAvgPool2d input larger than the buffer': () => call('adaptiveAvgPool2d', img, { n: 2, c: 3, h: 80, w: 8, oh: 2, ow: 2 }),
  'adaptiveAvgPool2dBackward gradient too small': () => call('adaptiveAvgPool2dBackward', x, { n: 2, c: 3, h: 8, w: 8, oh: 4, ow: 4 }),
  'lrn size 2^62': () => call('lrn', img, { size: huge + 1, alpha: 1, beta: 1, k: 1 }, {}),
  'lrn alpha NaN': () => call('lrn', img, { size: 3, alpha: NaN, beta: 1, k: 1 }, {}),
  'lrnBackward gradient of another size': () => call('lrnBackward', x, img, null, { size: 3, alpha: 1, beta: 1, k: 1 }),
  'lrn even size': () => call('lrn', img, { size: 4, alpha: 1, beta: 1, k: 1 }, {}),
  'sgdStep without params': () => call('sgdStep', x, x, null, {}),
  'setThreads 2^40': () => call('setThreads', 2 ** 40),
  'readBandwidth 2^50 MiB': () => call('readBandwidth', 2 ** 50, 1),
  'matmulGflops 2^40 cubed': () => call('matmulGflops', 2 ** 40, 2 ** 40, 2 ** 40, 1),
};

const result: Record<string, string> = {};
for (const [name, fn] of Object.entries(cases)) {
  try {
    fn();
    result[name] = 'no error';
  } catch (e) {
    result[name] = e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-Error ${String(e)}`;
  }
}
process.stdout.write(JSON.stringify(result) + '\n');
