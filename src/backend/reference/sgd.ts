// One in-place SGD step with PyTorch's rule (torch.optim.SGD):
//   d = g + wd·p;  buf = firstStep ? d : momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p −= lr·d
// For float32 every intermediate is rounded where PyTorch's in-place tensor ops round, so a
// float32 training run follows PyTorch's numbers closely.
import type { FloatArray, SgdParams } from '../backend.js';

const identity = (v: number): number => v;

export function sgdKernel(param: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdParams, firstStep: boolean): void {
  if (grad.length !== param.length) throw new Error(`sgd: gradient has ${grad.length} elements, parameter ${param.length}`);
  if (p.momentum !== 0 && buf === null) throw new Error('sgd: momentum is set but no momentum buffer was given');
  if (buf !== null && buf.length !== param.length) throw new Error(`sgd: momentum buffer has ${buf.length} elements, parameter ${param.length}`);
  const round = param instanceof Float32Array ? Math.fround : identity;
  sgdLoop(param, grad, p.momentum === 0 ? null : buf, p, firstStep, round);
}

function sgdLoop(
  param: FloatArray, grad: FloatArray, buf: FloatArray | null, p: SgdParams, firstStep: boolean,
  round: (v: number) => number,
): void {
  const { lr, momentum, dampening, weightDecay: wd, nesterov } = p;
  const keep = 1 - dampening;
  const n = param.length;
  for (let i = 0; i < n; i++) {
    let d = grad[i];
    if (wd !== 0) d = round(d + round(wd * param[i]));
    if (buf !== null) {
      const b = firstStep ? d : round(round(momentum * buf[i]) + round(keep * d));
      buf[i] = b;
      d = nesterov ? round(d + round(momentum * b)) : b;
    }
    param[i] = round(param[i] + round(-lr * d));
  }
}
