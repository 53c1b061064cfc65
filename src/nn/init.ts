// Weight initialisation: PyTorch's defaults for Conv2d/Linear (kaiming-uniform with a = √5, so
// bound = 1/√fan_in, and the same bound for the bias), Xavier/Glorot uniform and the paper's N(0, 0.01).
import { ShapeError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import { numel, shapeText } from '../shape.js';
import { noGrad, Tensor } from '../tensor.js';

/** Set while withoutInit runs: layers keep their zero-filled parameters. */
let skipping = false;

/**
 * Runs `build` with PyTorch's default layer initialisation switched off, so that the parameters
 * stay zero-filled: for a model whose every value is about to be loaded from a file, which saves
 * drawing (and, natively, allocating) a random copy of every weight.
 */
export function withoutInit<T>(build: () => T): T {
  const outer = skipping;
  skipping = true;
  try {
    return build();
  } finally {
    skipping = outer;
  }
}

function replaceWith(t: Tensor, values: Tensor): void {
  noGrad(() => t.assign(values));
  values.dispose();
}

/** Fills t in place with U(-bound, bound). */
export function uniform_(t: Tensor, bound: number, rng: Generator = defaultGenerator): void {
  replaceWith(t, Tensor.uniform(t.shape, -bound, bound, { rng, dtype: t.dtype, backend: t.backend }));
}

/** Fills t in place with N(mean, std²). */
export function normal_(t: Tensor, mean: number, std: number, rng: Generator = defaultGenerator): void {
  replaceWith(t, Tensor.randn(t.shape, { rng, mean, std, dtype: t.dtype, backend: t.backend }));
}

export function constant_(t: Tensor, value: number): void {
  replaceWith(t, Tensor.full(t.shape, value, { dtype: t.dtype, backend: t.backend }));
}

/** PyTorch's reset_parameters for Conv2d and Linear: weight and bias ~ U(±1/√fan_in). */
export function pytorchDefaultInit(weight: Tensor, bias: Tensor | null, fanIn: number, rng: Generator = defaultGenerator): void {
  if (skipping) return;
  const bound = 1 / Math.sqrt(fanIn);
  // kaiming_uniform_(a=√5): gain = √(2/(1+5)), bound = gain·√(3/fan_in) = 1/√fan_in.
  uniform_(weight, bound, rng);
  if (bias) uniform_(bias, bound, rng);
}

/**
 * torch.nn.init.xavier_uniform_: U(±√(6 / (fan_in + fan_out))), with PyTorch's fans for a weight
 * [out, in/groups, kh, kw] (or [out, in]): fan_in = in/groups·kh·kw, fan_out = out·kh·kw.
 */
export function xavierUniform_(weight: Tensor, rng: Generator = defaultGenerator): void {
  const [out, inPerGroup, ...kernel] = weight.shape;
  if (out === undefined || inPerGroup === undefined)
    throw new ShapeError(`xavierUniform_: weight ${shapeText(weight.shape)} needs 2 or more dimensions for its fans`);
  const receptive = numel(kernel);
  uniform_(weight, Math.sqrt(6 / (inPerGroup * receptive + out * receptive)), rng);
}
