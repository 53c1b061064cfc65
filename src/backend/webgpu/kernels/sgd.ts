// One in-place SGD step with PyTorch's rule (torch.optim.SGD), one invocation per element:
//   d = g + wd·p;  buf = firstStep ? d : momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p −= lr·d
// The reference backend rounds once per add(x, alpha) (a fused multiply-add): fma here, which
// WGSL lets an implementation compute unfused (one more rounding: within an ulp of the reference).
import type { KernelContext } from '../kernel_context.js';
import { entry, grid, uniforms } from './prelude.js';

interface Sgd {
  n: number;
  negLr: number;
  momentum: number;
  keep: number;
  wd: number;
  nesterov: number;
  first: number;
  hasBuf: number;
}

export function sgdStep(ctx: KernelContext, [param, grad, buf]: GPUBuffer[], p: Sgd): void {
  const code = `struct U { n: u32, nesterov: u32, first: u32, has_buf: u32, neg_lr: f32, momentum: f32, keep: f32, wd: f32 }
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> buf: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
${entry('u.n')}
  var d = grad[i];
  if (u.wd != 0.0) { d = fma(u.wd, param[i], d); }
  if (u.has_buf != 0u) {
    var b = d;
    if (u.first == 0u) { b = fma(u.keep, d, u.momentum * buf[i]); }
    buf[i] = b;
    d = select(b, fma(u.momentum, b, d), u.nesterov != 0u);
  }
  param[i] = fma(u.neg_lr, d, param[i]);
}`;
  ctx.dispatch(
    ctx.pipeline('sgd_step', code),
    [param!, grad!, buf!],
    uniforms([
      ['u32', p.n],
      ['u32', p.nesterov],
      ['u32', p.first],
      ['u32', p.hasBuf],
      ['f32', p.negLr],
      ['f32', p.momentum],
      ['f32', p.keep],
      ['f32', p.wd],
    ]),
    grid(p.n),
  );
}
