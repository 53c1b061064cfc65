// Log-softmax and softmax cross-entropy over logits [n, c], one invocation per row for the
// row's log-sum-exp (computed as PyTorch does: max + log Σ exp(x − max); a NaN or +inf in the
// row makes it NaN, a row of -inf gives -inf), one per element for the gradients. The loss leaves
// the GPU as one value per row; the client sums them in row order, in double.
import type { KernelContext } from '../kernel_context.js';
import { FLOAT_HELPERS, entry, grid, uniforms } from './prelude.js';

const LSE = `${FLOAT_HELPERS}
struct U { n: u32, c: u32, scale: f32 }
fn lse(base: u32, c: u32) -> f32 {
  var m = -inf();
  for (var j = 0u; j < c; j++) {
    let v = x[base + j];
    if (is_nan(v)) { return v; }
    if (v > m) { m = v; }
  }
  if (is_inf(m)) { return select(nan(), m, m < 0.0); }
  var s = 0.0;
  for (var j = 0u; j < c; j++) { s += exp_(x[base + j] - m); }
  return m + log(s);
}`;

const rows = (n: number, c: number, scale = 0) =>
  uniforms([
    ['u32', n],
    ['u32', c],
    ['f32', scale],
  ]);

/** y [n, c] = x − logsumexp(x) per row. */
export function logSoftmax(ctx: KernelContext, [x, y]: GPUBuffer[], p: { n: number; c: number }): void {
  const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
${LSE}
${entry('u.n')}
  let base = i * u.c;
  let l = lse(base, u.c);
  for (var j = 0u; j < u.c; j++) { y[base + j] = x[base + j] - l; }
}`;
  ctx.dispatch(ctx.pipeline('log_softmax', code), [x!, y!], rows(p.n, p.c), grid(p.n));
}

/** gx = gy − exp(y) · Σ_j gy[row, j]. */
export function logSoftmaxBackward(ctx: KernelContext, [gy, y, gx]: GPUBuffer[], p: { n: number; c: number }): void {
  const code = `${FLOAT_HELPERS}
struct U { n: u32, c: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> gy: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
${entry('u.n')}
  let base = i * u.c;
  var s = 0.0;
  for (var j = 0u; j < u.c; j++) { s += gy[base + j]; }
  for (var j = 0u; j < u.c; j++) { gx[base + j] = gy[base + j] - exp_(y[base + j]) * s; }
}`;
  ctx.dispatch(ctx.pipeline('log_softmax_backward', code), [gy!, y!, gx!], rows(p.n, p.c), grid(p.n));
}

/** probs [n, c] = softmax(x); rowLoss [n] = logsumexp − x[label]. */
export function softmaxXent(ctx: KernelContext, [x, labels, probs, rowLoss]: GPUBuffer[], p: { n: number; c: number }): void {
  const code = `@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(4) var<uniform> u: U;
${LSE}
${entry('u.n')}
  let base = i * u.c;
  let l = lse(base, u.c);
  for (var j = 0u; j < u.c; j++) { probs[base + j] = exp_(x[base + j] - l); }
  row_loss[i] = l - x[base + u32(labels[i])];
}`;
  ctx.dispatch(ctx.pipeline('softmax_xent', code), [x!, labels!, probs!, rowLoss!], rows(p.n, p.c), grid(p.n));
}

/** gx = (probs − onehot(labels)) · scale / n, with f = scale / n given. */
export function softmaxXentBackward(ctx: KernelContext, [probs, labels, gx]: GPUBuffer[], p: { n: number; c: number; f: number }): void {
  const code = `struct U { n: u32, c: u32, f: f32 }
@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> gx: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
${entry('u.n * u.c')}
  let g = probs[i] * u.f;
  gx[i] = select(g, g - u.f, u32(labels[i / u.c]) == i % u.c);
}`;
  ctx.dispatch(ctx.pipeline('softmax_xent_backward', code), [probs!, labels!, gx!], rows(p.n, p.c, p.f), grid(p.n * p.c));
}
