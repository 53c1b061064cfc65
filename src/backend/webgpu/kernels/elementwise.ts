// Elementwise kernels, one invocation per element: fill, unary and binary maps, tensor–scalar
// maps, in-place axpy, the bias broadcast along axis 1, and ReLU with its backward. NaN behaves
// as in PyTorch (relu, max and min keep it; sign(NaN) is 0 as torch 1.13 computes it).
import type { BinaryOp, ScalarOp, UnaryOp } from '../../backend.js';
import type { KernelContext } from '../kernel_context.js';
import { FLOAT_HELPERS, entry, grid, uniforms } from './prelude.js';

const UNARY: Record<UnaryOp, string> = {
  neg: '-v',
  exp: 'exp_(v)',
  log: 'log_(v)',
  sqrt: 'sqrt_(v)',
  abs: 'bitcast<f32>(bitcast<u32>(v) & 0x7fffffffu)',
  relu: 'select(v, 0.0, below0(v))',
  sign: 'select(select(0.0, 1.0, v > 0.0 && !is_nan(v)), -1.0, below0(v))',
};

const BINARY: Record<BinaryOp, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  max: 'max_(a, b)',
  min: 'min_(a, b)',
};

const SCALAR: Record<ScalarOp, string> = {
  add: 'v + s',
  mul: 'v * s',
  pow: 'pow_(v, s)',
  max: 'max_(v, s)',
  min: 'min_(v, s)',
  rsub: 's - v',
  rdiv: 's / v',
};

/** Buffers: inputs…, output; a uniform { n, s } (s: an f32 operand, unused by some). */
function map(ctx: KernelContext, key: string, inputs: string[], expr: string, bufs: GPUBuffer[], n: number, s = 0): void {
  const bindings = [...inputs, 'y']
    .map((name, i) => `@group(0) @binding(${i}) var<storage, ${name === 'y' ? 'read_write' : 'read'}> ${name}_: array<f32>;`)
    .join('\n');
  const code = `${FLOAT_HELPERS}
struct U { n: u32, s: f32 }
${bindings}
@group(0) @binding(${inputs.length + 1}) var<uniform> u: U;
${entry('u.n')}
  let s = u.s;
  ${inputs.map((name) => `let ${name} = ${name}_[i];`).join(' ')}
  y_[i] = ${expr};
}`;
  ctx.dispatch(
    ctx.pipeline(key, code),
    bufs,
    uniforms([
      ['u32', n],
      ['f32', s],
    ]),
    grid(n),
  );
}

export function fill(ctx: KernelContext, [y]: GPUBuffer[], p: { n: number; value: number }): void {
  map(ctx, 'fill', [], 's', [y!], p.n, p.value);
}

export function unary(ctx: KernelContext, [x, y]: GPUBuffer[], p: { n: number; op: number }): void {
  const op = Object.keys(UNARY)[p.op] as UnaryOp;
  map(ctx, `unary:${op}`, ['v'], UNARY[op], [x!, y!], p.n);
}

export function binary(ctx: KernelContext, [a, b, y]: GPUBuffer[], p: { n: number; op: number }): void {
  const op = Object.keys(BINARY)[p.op] as BinaryOp;
  map(ctx, `binary:${op}`, ['a', 'b'], BINARY[op], [a!, b!, y!], p.n);
}

export function scalar(ctx: KernelContext, [x, y]: GPUBuffer[], p: { n: number; op: number; value: number }): void {
  const op = Object.keys(SCALAR)[p.op] as ScalarOp;
  map(ctx, `scalar:${op}`, ['v'], SCALAR[op], [x!, y!], p.n, p.value);
}

/** The code an op name is sent as (its index in the table above). */
export const opCode = {
  unary: (op: UnaryOp) => Object.keys(UNARY).indexOf(op),
  binary: (op: BinaryOp) => Object.keys(BINARY).indexOf(op),
  scalar: (op: ScalarOp) => Object.keys(SCALAR).indexOf(op),
};

/** dst += alpha · src in place (alpha = 1: a plain add). */
export function axpy(ctx: KernelContext, [dst, src]: GPUBuffer[], p: { n: number; alpha: number }): void {
  const code = `struct U { n: u32, alpha: f32 }
@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<uniform> u: U;
${entry('u.n')}
  dst[i] = select(dst[i] + u.alpha * src[i], dst[i] + src[i], u.alpha == 1.0);
}`;
  ctx.dispatch(
    ctx.pipeline('axpy', code),
    [dst!, src!],
    uniforms([
      ['u32', p.n],
      ['f32', p.alpha],
    ]),
    grid(p.n),
  );
}

/** y [outer, c, inner] = x + b[c]. */
export function addBias(ctx: KernelContext, [x, b, y]: GPUBuffer[], p: { n: number; c: number; inner: number }): void {
  const code = `struct U { n: u32, c: u32, inner: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> u: U;
${entry('u.n')}
  y[i] = x[i] + b[(i / u.inner) % u.c];
}`;
  ctx.dispatch(
    ctx.pipeline('add_bias', code),
    [x!, b!, y!],
    uniforms([
      ['u32', p.n],
      ['u32', p.c],
      ['u32', p.inner],
    ]),
    grid(p.n),
  );
}

/** gx = 0 where y <= 0, else gy (a NaN output passes its gradient). */
export function reluBackward(ctx: KernelContext, [gy, y, gx]: GPUBuffer[], p: { n: number }): void {
  map(ctx, 'relu_backward', ['g', 'v'], 'select(g, 0.0, atmost0(v))', [gy!, y!, gx!], p.n);
}
