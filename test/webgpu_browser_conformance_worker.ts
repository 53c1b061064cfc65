// The conformance suite's cases (test/conformance.test.ts: PyTorch's golden files, the non-finite
// cases, the narrow AlexNet-2012 network) run inside a browser Worker on the webgpu backend, loaded
// through the library's browser entry. Bundled by test/webgpu_browser_conformance.test.ts; the
// fixtures are fetched from the test's server. Replies with one outcome per case: the relative
// error (max |diff| / max |ref|, as test/helpers.ts's relError) of each compared array, or the error.
import { loadWebGpuBackend } from '../src/browser.js';
import type { Backend } from '../src/backend/backend.js';
import { setBackend } from '../src/backend/registry.js';
import * as ops from '../src/ops/index.js';
import { miniAlexNet } from './mini_alexnet.js';
import { Tensor } from '../src/tensor.js';

interface Arr {
  shape: number[];
  data: (number | string)[];
}
type Params = Record<string, number | number[] | boolean>;
interface OpCase {
  params: Params;
  inputs: Record<string, Arr>;
  gy: Arr;
  output: Arr;
  grads: Record<string, Arr>;
  labels?: number[];
}
interface NonFiniteCase {
  name: string;
  params: Params;
  inputs: Record<string, Arr>;
  output: Arr;
}
type Inputs = Record<string, Tensor> & { x: Tensor; w: Tensor; b: Tensor };

/** One case's outcome: each compared array's relative error, or why it failed. */
export interface CaseOutcome {
  name: string;
  errors: { what: string; rel: number }[];
  failure: string | null;
}

const num = (v: Params[string] | undefined): number => v as number;
const conv = (i: Inputs, p: Params, relu = false): Tensor =>
  ops.conv2d(i.x, i.w, i.b, { stride: num(p.stride ?? 1), padding: num(p.padding ?? 0), groups: num(p.groups ?? 1), relu });
const lrn = (i: Inputs, p: Params): Tensor => ops.localResponseNorm(i.x, num(p.size), num(p.alpha), num(p.beta), num(p.k));
const ce = (i: Inputs, labels: number[]): Tensor => ops.reshape(ops.crossEntropy(i.x, labels), [1]);

/** The golden files' ops (conformance.test.ts's OPS). */
const OPS: Record<string, (i: Inputs, p: Params, labels: number[]) => Tensor> = {
  conv2d_groups: (i, p) => conv(i, p),
  conv2d_k11_s4: (i, p) => conv(i, p),
  max_pool2d_3_2: (i) => ops.maxPool2d(i.x, 3, { stride: 2 }),
  max_pool2d_ceil_pad: (i) => ops.maxPool2d(i.x, 3, { stride: 2, padding: 1, ceilMode: true }),
  adaptive_avg_pool2d: (i) => ops.adaptiveAvgPool2d(i.x, 6),
  lrn_paper: lrn,
  lrn_even: lrn,
  linear: (i) => ops.linear(i.x, i.w, i.b),
  log_softmax: (i) => ops.logSoftmax(i.x),
  cross_entropy: (i, _p, labels) => ce(i, labels),
};

/** The non-finite cases' ops (conformance.test.ts's NONFINITE_OPS). */
const NONFINITE_OPS: Record<string, (i: Inputs, p: Params) => Tensor> = {
  relu: (i) => ops.relu(i.x),
  conv2d_relu: (i, p) => conv(i, p, true),
  conv2d_groups_relu: (i, p) => conv(i, p, true),
  max_pool2d_3_2: (i) => ops.maxPool2d(i.x, 3, { stride: 2 }),
  max_pool2d_ceil_pad: (i) => ops.maxPool2d(i.x, 3, { stride: 2, padding: 1, ceilMode: true }),
  adaptive_avg_pool2d: (i) => ops.adaptiveAvgPool2d(i.x, 4),
  lrn_paper: lrn,
  lrn_even: lrn,
  linear_relu: (i) => ops.linear(i.x, i.w, i.b, { relu: true }),
  linear_relu_row: (i) => ops.linear(i.x, i.w, i.b, { relu: true }),
  log_softmax: (i) => ops.logSoftmax(i.x),
  cross_entropy: (i, p) => ce(i, p.labels as number[]),
  cross_entropy_finite_row_with_neg_inf: (i, p) => ce(i, p.labels as number[]),
};

function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length}, expected ${expected.length}`);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}

/** NaN and ±inf exactly where expected (else throws); the finite entries' relative error. */
function nonFiniteError(actual: ArrayLike<number>, expected: number[], what: string): number {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  const a: number[] = [];
  const e: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (Number.isFinite(expected[i])) {
      if (!Number.isFinite(actual[i])) throw new Error(`${what}[${i}]: expected ${expected[i]}, got ${actual[i]}`);
      a.push(actual[i]!);
      e.push(expected[i]!);
    } else if (!Object.is(actual[i], expected[i])) throw new Error(`${what}[${i}]: expected ${expected[i]}, got ${actual[i]}`);
  }
  return relError(a, e);
}

const values = (a: Arr): Float32Array => Float32Array.from(a.data.map(Number));
const tensor = (a: Arr, requiresGrad = false): Tensor => Tensor.fromArray(values(a), a.shape, { requiresGrad });
const fetchJson = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T;

async function run(name: string, out: CaseOutcome[], body: (errors: CaseOutcome['errors']) => void | Promise<void>): Promise<void> {
  const errors: CaseOutcome['errors'] = [];
  try {
    await body(errors);
    out.push({ name, errors, failure: null });
  } catch (err) {
    out.push({ name, errors, failure: err instanceof Error ? err.message : String(err) });
  }
}

function miniNetwork(
  c: { input: Arr; labels: number[]; output: Arr; loss: number; state_dict: Record<string, Arr>; grads: Record<string, Arr> },
  errors: CaseOutcome['errors'],
): void {
  const model = miniAlexNet();
  model.loadStateDict(new Map(Object.entries(c.state_dict).map(([k, v]) => [k, tensor(v)])));
  const out = model.forward(tensor(c.input));
  errors.push({ what: 'output', rel: relError(out.toArray(), values(c.output)) });
  const loss = ops.crossEntropy(out, c.labels);
  errors.push({ what: 'loss', rel: relError([loss.item()], [c.loss]) });
  loss.backward();
  for (const [name, p] of model.namedParameters())
    errors.push({ what: `grad ${name}`, rel: relError(p.grad!.toArray(), values(c.grads[name]!)) });
}

async function conformance(base: string, files: string[]): Promise<{ backend: string; outcomes: CaseOutcome[] }> {
  const backend: Backend = setBackend(await loadWebGpuBackend());
  const outcomes: CaseOutcome[] = [];
  for (const f of files) {
    const name = f.replace('.json', '');
    await run(`op ${name}`, outcomes, async (errors) => {
      const op = OPS[name];
      if (!op) throw new Error(`no op for fixture ${f}`);
      const c = await fetchJson<OpCase>(`${base}${f}`);
      const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensor(v, true)])) as Inputs;
      const out = op(inputs, c.params, c.labels ?? []);
      errors.push({ what: 'output', rel: relError(out.toArray(), values(c.output)) });
      ops.sum(ops.mul(out, tensor(c.gy))).backward();
      for (const [k, g] of Object.entries(c.grads))
        errors.push({ what: `grad ${k}`, rel: relError(inputs[k]!.grad!.toArray(), values(g)) });
    });
  }
  for (const c of await fetchJson<NonFiniteCase[]>(`${base}nonfinite/nonfinite.json`)) {
    for (const training of [false, true]) {
      await run(`non-finite ${c.name} (${training ? 'training' : 'inference'})`, outcomes, (errors) => {
        const op = NONFINITE_OPS[c.name];
        if (!op) throw new Error(`no op for non-finite case ${c.name}`);
        const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensor(v, training)])) as Inputs;
        const out = op(inputs, c.params);
        if (out.shape.join() !== c.output.shape.join()) throw new Error(`output shape [${out.shape}], expected [${c.output.shape}]`);
        errors.push({ what: 'finite entries', rel: nonFiniteError(out.toArray(), c.output.data.map(Number), c.name) });
      });
    }
  }
  await run('dropout keeps NaN and turns a dropped infinity into NaN', outcomes, () => {
    const x = Float32Array.from([NaN, Infinity, -Infinity, 1, NaN, Infinity, -Infinity, 2]);
    const { y, mask } = backend.dropout(backend.fromArray(x, [8]), [8], 0.5, 7);
    const yv = backend.toArray(y, [8]);
    const mv = backend.toArray(mask, [8]);
    for (let i = 0; i < 8; i++) if (!Object.is(yv[i], x[i]! * mv[i]!)) throw new Error(`dropout[${i}]: ${x[i]} · ${mv[i]} gave ${yv[i]}`);
  });
  const mini = await fetchJson<Parameters<typeof miniNetwork>[0]>(`${base}mini_alexnet.json`);
  await run('a narrow AlexNet-2012 network: output, loss and every parameter gradient', outcomes, (errors) => miniNetwork(mini, errors));
  return { backend: backend.name, outcomes };
}

self.onmessage = (e: MessageEvent<{ base: string; files: string[] }>) => {
  conformance(e.data.base, e.data.files).then(
    (result) => self.postMessage({ ok: true, ...result }),
    (err: unknown) => self.postMessage({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
};
