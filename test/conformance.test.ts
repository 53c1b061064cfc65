// The conformance suite, run for every backend that loads here (reference; native f32; native
// bf16 where the CPU has it; wasm on one thread and on two): PyTorch golden files (scripts/make_golden_fixtures.py, Debian's
// torch 1.13) with each op's forward output and input gradients, and a narrow AlexNet-2012-shaped
// network's output, loss and parameter gradients. Tolerance (max|diff| / max|ref|): 1e-4 in f32.
// bf16 rounds the inputs of convolutions and inner products to 8 significant bits (relative
// error up to 2^-9 ≈ 2e-3 per operand); with f32 accumulation, outputs of layers with hundreds
// of terms differ from f32 by about 1e-2 of their range, and errors compound over the eight
// layers of the network, so bf16 is held to 3e-2 per op and 6e-2 for the network's output, loss
// and the gradients of conv5 and the classifier (measured: at most 6e-3). bf16 mode keeps the
// activations between layers in bf16, as PyTorch's autocast does, and the gradients of conv1–conv4
// reach them through max pools whose argmax moves at the near-ties bf16 rounding makes in this
// 8–16-channel network: they differ from f32 by 0.30–0.56, as torch.autocast's own do (0.30–0.56),
// so they are held to 0.6 here; test/native_bf16.test.ts holds them to 2e-2 of autocast's.
// webgpu (Dawn on SwiftShader's Vulkan here: VK_ICD_FILENAMES is set when unset and Debian's
// chromium carries the driver) is held to the same 1e-4: it computes in f32 like the others and
// differs only in summation order (a tile of a GEMM, a tree in a reduction) and in exp/log/exp2
// within a few ulps (WGSL's accuracy bounds), far below 1e-4 of any output's range.
// Non-finite inputs (scripts/make_nonfinite_fixtures.py): NaN, +inf and -inf must come out where
// PyTorch's do — a NaN input never becomes a finite logit — in inference and in training mode;
// the finite entries are held to the same tolerances.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { nativeBackend, referenceBackend, setBackend } from '../src/backend/registry.js';
import { loadWasmBackendSync } from '../src/backend/wasm/node.js';
import { webGpuForTests } from './webgpu_backend_helpers.js';
import * as ops from '../src/ops/index.js';
import { miniAlexNet } from './mini_alexnet.js';
import { Tensor } from '../src/tensor.js';
import { assertRelClose, relError } from './helpers.js';
import assert from 'node:assert/strict';

interface Arr {
  shape: number[];
  data: number[];
}
interface OpCase {
  name: string;
  params: Record<string, number | number[] | boolean>;
  inputs: Record<string, Arr>;
  gy: Arr;
  output: Arr;
  grads: Record<string, Arr>;
  labels?: number[];
}

const dir = new URL('./fixtures/golden/', import.meta.url.replace('/dist/test/', '/test/'));
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as T;

/** The backends under test, with their tolerance for ops and for the whole network. */
interface Tolerance {
  net: number;
  early?: number;
}
function backendsUnderTest(): { name: string; be: Backend; opTol: number; netTol: Tolerance }[] {
  const out: { name: string; be: Backend; opTol: number; netTol: Tolerance }[] = [
    { name: 'reference', be: referenceBackend(), opTol: 1e-4, netTol: { net: 1e-4 } },
  ];
  const f32 = nativeBackend({ precision: 'f32' });
  if (f32.backend) out.push({ name: 'native f32', be: f32.backend, opTol: 1e-4, netTol: { net: 1e-4 } });
  else console.log(`# conformance: native backend not tested here: ${f32.reason}`);
  const bf16 = nativeBackend({ precision: 'bf16' });
  if (bf16.backend && (bf16.backend as { precision?: string }).precision === 'bf16')
    out.push({ name: 'native bf16', be: bf16.backend, opTol: 3e-2, netTol: { net: 6e-2, early: 0.6 } });
  for (const threads of [1, 2]) {
    const name = `wasm ${threads} thread${threads > 1 ? 's' : ''}`;
    let be: Backend;
    try {
      be = loadWasmBackendSync({ threads });
    } catch (err) {
      // Not built (npm run build:wasm): a failure of its own, not of the whole file.
      test(`conformance [${name}]: the backend loads`, () => assert.fail((err as Error).message));
      continue;
    }
    out.push({ name, be, opTol: 1e-4, netTol: { net: 1e-4 } });
  }
  const gpu = webGpuForTests();
  if (gpu.backend) out.push({ name: 'webgpu', be: gpu.backend, opTol: 1e-4, netTol: { net: 1e-4 } });
  else test('conformance [webgpu]', { skip: gpu.reason }, () => {});
  return out;
}

type OpFn = (inp: Inputs, p: OpCase['params'], labels: number[]) => Tensor;
const num = (v: OpCase['params'][string] | undefined) => v as number;
/** A case's input tensors by name; every op reads only inputs its fixture has. */
type Inputs = Record<string, Tensor> & { x: Tensor; w: Tensor; b: Tensor };
const OPS: Record<string, OpFn> = {
  conv2d_groups: (i, p) => ops.conv2d(i.x, i.w, i.b, { stride: num(p.stride), padding: num(p.padding), groups: num(p.groups) }),
  conv2d_k11_s4: (i, p) => ops.conv2d(i.x, i.w, i.b, { stride: num(p.stride), padding: num(p.padding) }),
  max_pool2d_3_2: (i) => ops.maxPool2d(i.x, 3, { stride: 2 }),
  max_pool2d_ceil_pad: (i) => ops.maxPool2d(i.x, 3, { stride: 2, padding: 1, ceilMode: true }),
  adaptive_avg_pool2d: (i) => ops.adaptiveAvgPool2d(i.x, 6),
  lrn_paper: (i, p) => ops.localResponseNorm(i.x, num(p.size), num(p.alpha), num(p.beta), num(p.k)),
  lrn_even: (i, p) => ops.localResponseNorm(i.x, num(p.size), num(p.alpha), num(p.beta), num(p.k)),
  linear: (i) => ops.linear(i.x, i.w, i.b),
  log_softmax: (i) => ops.logSoftmax(i.x),
  cross_entropy: (i, _p, labels) => ops.reshape(ops.crossEntropy(i.x, labels), [1]),
};

/** A case of nonfinite.json: values are numbers or the strings 'NaN', 'Infinity', '-Infinity'. */
interface NonFiniteCase {
  name: string;
  params: Record<string, number | number[]>;
  inputs: Record<string, { shape: number[]; data: (number | string)[] }>;
  output: { shape: number[]; data: (number | string)[] };
}
const decode = (data: (number | string)[]) => data.map(Number);
const NONFINITE_OPS: Record<string, (i: Inputs, p: NonFiniteCase['params']) => Tensor> = {
  relu: (i) => ops.relu(i.x),
  conv2d_relu: (i, p) => ops.conv2d(i.x, i.w, i.b, { stride: num(p.stride), padding: num(p.padding), relu: true }),
  conv2d_groups_relu: (i, p) => ops.conv2d(i.x, i.w, i.b, { padding: num(p.padding), groups: num(p.groups), relu: true }),
  max_pool2d_3_2: (i) => ops.maxPool2d(i.x, 3, { stride: 2 }),
  max_pool2d_ceil_pad: (i) => ops.maxPool2d(i.x, 3, { stride: 2, padding: 1, ceilMode: true }),
  adaptive_avg_pool2d: (i) => ops.adaptiveAvgPool2d(i.x, 4),
  lrn_paper: (i, p) => ops.localResponseNorm(i.x, num(p.size), num(p.alpha), num(p.beta), num(p.k)),
  lrn_even: (i, p) => ops.localResponseNorm(i.x, num(p.size), num(p.alpha), num(p.beta), num(p.k)),
  linear_relu: (i) => ops.linear(i.x, i.w, i.b, { relu: true }),
  linear_relu_row: (i) => ops.linear(i.x, i.w, i.b, { relu: true }),
  log_softmax: (i) => ops.logSoftmax(i.x),
  cross_entropy: (i, p) => ops.reshape(ops.crossEntropy(i.x, p.labels as number[]), [1]),
  cross_entropy_finite_row_with_neg_inf: (i, p) => ops.reshape(ops.crossEntropy(i.x, p.labels as number[]), [1]),
};

/** NaN and ±inf exactly where expected; the finite entries within `tol` (relative to their range). */
function assertSameNonFinite(actual: ArrayLike<number>, expected: number[], tol: number, name: string): void {
  assert.equal(actual.length, expected.length, `${name}: length`);
  const finiteA: number[] = [];
  const finiteE: number[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isFinite(e)) {
      assert.ok(Number.isFinite(a), `${name}[${i}]: expected ${e}, got ${a}`);
      finiteA.push(a);
      finiteE.push(e);
    } else {
      assert.ok(Object.is(a, e), `${name}[${i}]: expected ${e}, got ${a}`);
    }
  }
  const err = relError(finiteA, finiteE);
  assert.ok(err <= tol, `${name}: finite entries differ by ${err.toExponential(3)} (relative) > ${tol}`);
}

const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'mini_alexnet.json');
test('every golden fixture has an op', () => {
  for (const f of files) if (!OPS[f.replace('.json', '')]) throw new Error(`no op for fixture ${f}`);
});

for (const { name: backendName, be, opTol, netTol } of backendsUnderTest()) {
  const tensor = (a: Arr, requiresGrad = false) => Tensor.fromArray(Float32Array.from(a.data), a.shape, { backend: be, requiresGrad });

  describe(`conformance [${backendName}]: ops against PyTorch`, () => {
    for (const f of files) {
      const name = f.replace('.json', '');
      test(name, () => {
        const c = load<OpCase>(f);
        const inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensor(v, true)])) as Inputs;
        const out = OPS[name]!(inputs, c.params, c.labels ?? []);
        assertRelClose(out.toArray(), c.output.data, opTol, `${name} output`);
        ops.sum(ops.mul(out, tensor(c.gy))).backward();
        for (const [k, g] of Object.entries(c.grads)) assertRelClose(inputs[k]!.grad!.toArray(), g.data, opTol, `${name} grad ${k}`);
      });
    }
  });

  describe(`conformance [${backendName}]: NaN and infinities propagate as in PyTorch`, () => {
    const nonFinite = new URL('nonfinite/nonfinite.json', dir);
    const cases = JSON.parse(readFileSync(nonFinite, 'utf8')) as NonFiniteCase[];
    for (const c of cases) {
      for (const training of [false, true]) {
        test(`${c.name} (${training ? 'training' : 'inference'})`, () => {
          const op = NONFINITE_OPS[c.name];
          assert.ok(op, `no op for non-finite case ${c.name}`);
          const inputs = Object.fromEntries(
            Object.entries(c.inputs).map(([k, v]) => [
              k,
              Tensor.fromArray(Float32Array.from(decode(v.data)), v.shape, { backend: be, requiresGrad: training }),
            ]),
          ) as Inputs;
          const out = op(inputs, c.params);
          assert.deepEqual(out.shape, c.output.shape, `${c.name}: output shape`);
          assertSameNonFinite(out.toArray(), decode(c.output.data), opTol, c.name);
        });
      }
    }
    test('dropout keeps NaN and turns a dropped infinity into NaN (x · 0, as torch)', () => {
      const x = Float32Array.from([NaN, Infinity, -Infinity, 1, NaN, Infinity, -Infinity, 2]);
      const { y, mask } = be.dropout(be.fromArray(x, [8]), [8], 0.5, 7);
      const yv = be.toArray(y, [8]);
      const mv = be.toArray(mask, [8]);
      for (let i = 0; i < 8; i++) assert.ok(Object.is(yv[i], x[i]! * mv[i]!), `dropout[${i}]: ${x[i]} · ${mv[i]} gave ${yv[i]}`);
    });
  });

  test(`conformance [${backendName}]: a narrow AlexNet-2012 network: output, loss and every parameter gradient`, () => {
    setBackend(be);
    miniNetwork(tensor, netTol);
  });
}

function miniNetwork(tensor: (a: Arr) => Tensor, tol: Tolerance): void {
  const c = load<{ input: Arr; labels: number[]; output: Arr; loss: number; state_dict: Record<string, Arr>; grads: Record<string, Arr> }>(
    'mini_alexnet.json',
  );
  const model = miniAlexNet();
  model.loadStateDict(new Map(Object.entries(c.state_dict).map(([k, v]) => [k, tensor(v)])));
  const out = model.forward(tensor(c.input));
  assertRelClose(out.toArray(), c.output.data, tol.net, 'mini AlexNet output');
  const loss = ops.crossEntropy(out, c.labels);
  assertRelClose([loss.item()], [c.loss], tol.net, 'mini AlexNet loss');
  loss.backward();
  for (const [name, p] of model.namedParameters())
    assertRelClose(
      p.grad!.toArray(),
      c.grads[name]!.data,
      tol.early && /^features\.(0|4|8|10)\./.test(name) ? tol.early : tol.net,
      `grad ${name}`,
    );
}
