// SGD and the LR schedulers against torch.optim (scripts/make_optim_fixtures.py): the same
// parameters after each step, the same learning rates after each epoch.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { referenceBackend } from '../src/backend/registry.js';
import { ReduceLROnPlateau, SGD, StepLR, type PlateauOptions } from '../src/optim/index.js';
import { Tensor } from '../src/tensor.js';
import { assertClose } from './helpers.js';

interface SgdCase {
  opts: { lr: number; momentum?: number; dampening?: number; weight_decay?: number; nesterov?: boolean };
  start: number[];
  grads: number[][];
  params: number[][];
}
const fx = JSON.parse(
  readFileSync(new URL('./fixtures/golden/optim/optim.json', import.meta.url.replace('/dist/test/', '/test/')), 'utf8'),
) as {
  sgd: SgdCase[];
  step_lr: { step_size: number; gamma: number; lrs: number[] };
  metrics: number[];
  plateau: Record<
    string,
    {
      opts: {
        mode?: 'min' | 'max';
        patience?: number;
        cooldown?: number;
        threshold?: number;
        threshold_mode?: 'rel' | 'abs';
        factor?: number;
        min_lr?: number;
      };
      lrs: number[];
    }
  >;
};
const be = referenceBackend();

for (const c of fx.sgd) {
  test(`SGD ${JSON.stringify(c.opts)} equals torch.optim.SGD`, () => {
    const p = Tensor.fromArray(Float64Array.from(c.start), [c.start.length], { backend: be, requiresGrad: true });
    const opt = new SGD([p], {
      lr: c.opts.lr,
      momentum: c.opts.momentum,
      dampening: c.opts.dampening,
      weightDecay: c.opts.weight_decay,
      nesterov: c.opts.nesterov,
    });
    assert.equal(c.params.length, c.grads.length, 'one expected parameter per gradient');
    c.grads.forEach((g, i) => {
      p.grad = Tensor.fromArray(Float64Array.from(g), [g.length], { backend: be });
      opt.step();
      assertClose(p.toArray(), c.params[i] ?? [], { atol: 1e-12, rtol: 1e-12, name: `step ${i + 1}` });
    });
  });
}

test('SGD state round trip continues identically', () => {
  const mk = () => Tensor.fromArray(Float64Array.of(1, 2, 3), [3], { backend: be, requiresGrad: true });
  const a = mk();
  const b = mk();
  const oa = new SGD([a], { lr: 0.1, momentum: 0.9 });
  const grad = () => Tensor.fromArray(Float64Array.of(0.5, -1, 2), [3], { backend: be });
  a.grad = grad();
  oa.step();
  b.assign(a);
  const ob = new SGD([b], { lr: 0.5, momentum: 0.9 });
  ob.loadStateDict(oa.stateDict());
  a.grad = grad();
  b.grad = grad();
  oa.step();
  ob.step();
  assert.deepEqual(Array.from(b.toArray()), Array.from(a.toArray()));
});

test('StepLR equals torch', () => {
  const opt = { lr: 0.01 };
  const s = new StepLR(opt, fx.step_lr.step_size, fx.step_lr.gamma);
  const lrs = fx.step_lr.lrs.map(() => (s.step(), opt.lr));
  assertClose(lrs, fx.step_lr.lrs, { atol: 1e-15, rtol: 1e-12 });
});

for (const [name, c] of Object.entries(fx.plateau)) {
  test(`ReduceLROnPlateau ${name} equals torch`, () => {
    const opt = { lr: 0.01 };
    const o: PlateauOptions = {
      mode: c.opts.mode,
      patience: c.opts.patience,
      cooldown: c.opts.cooldown,
      threshold: c.opts.threshold,
      thresholdMode: c.opts.threshold_mode,
      factor: c.opts.factor,
      minLr: c.opts.min_lr,
    };
    const s = new ReduceLROnPlateau(opt, o);
    const lrs = fx.metrics.map((m) => (s.step(m), opt.lr));
    assertClose(lrs, c.lrs, { atol: 1e-15, rtol: 1e-12 });
  });
}

test('SGD rejects invalid settings', () => {
  const p = Tensor.zeros([1], { backend: be, requiresGrad: true });
  assert.throws(() => new SGD([p], { lr: -1 }), /invalid learning rate/);
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov/);
});
