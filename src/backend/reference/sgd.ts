// One in-place SGD step with PyTorch's rule (torch.optim.SGD):
//   d = g + wd·p;  buf = firstStep ? d : momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p −= lr·d
// For float32, intermediates are rounded where PyTorch's tensor ops round: scalars become
// float32, mul_ rounds, and add_(x, alpha) is a fused multiply-add (one rounding; a float32
// product is exact in float64). On the tested trajectories this matches torch 1.13 float32 bit for bit.
import type { FloatArray, SgdParams } from '../backend.js';

const identity = (v: number): number => v;

export function sgdKernel(param: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdParams, firstStep: boolean): void {
  if (grad.length !== param.length) throw new Error(`sgd: gradient has ${grad.length} elements, parameter ${param.length}`);
  if (p.momentum !== 0 && buf === null) throw new Error('sgd: momentum is set but no momentum buffer was given');
  if (buf !== null && buf.length !== param.length)
    throw new Error(`sgd: momentum buffer has ${buf.length} elements, parameter ${param.length}`);
  const round = param instanceof Float32Array ? Math.fround : identity;
  sgdLoop(param, grad, p.momentum === 0 ? null : buf, p, firstStep, round);
}

function sgdLoop(
  param: FloatArray,
  grad: FloatArray,
  buf: FloatArray | null,
  p: SgdParams,
  firstStep: boolean,
  round: (v: number) => number,
): void {
  // PyTorch turns the Python scalars into the tensor's dtype before using them.
  const momentum = round(p.momentum);
  const wd = round(p.weightDecay);
  const keep = round(1 - p.dampening);
  const negLr = round(-p.lr);
  const nesterov = p.nesterov;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    let d = grad[i]!;
    if (wd !== 0) d = round(d + wd * param[i]!);
    if (buf !== null) {
      const b = firstStep ? d : round(round(momentum * buf[i]!) + keep * d);
      buf[i] = b;
      d = nesterov ? round(d + momentum * b) : b;
    }
    param[i] = round(param[i]! + negLr * d);
  }
}
