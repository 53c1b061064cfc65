// Losses over logits [N, C]: log_softmax, and cross_entropy (mean over the batch, integer
// class labels) computed as one fused softmax + negative log-likelihood.
import { DataError, ShapeError } from '../errors.js';
import { makeResult, shapeText, Tensor } from '../tensor.js';

function checkLogits(op: string, x: Tensor): [number, number] {
  const [n, c, ...rest] = x.shape;
  if (n === undefined || c === undefined || rest.length) throw new ShapeError(`${op}: expected logits [N, C], got ${shapeText(x.shape)}`);
  return [n, c];
}

/**
 * Class labels as Int32Array after checking each: N labels (a list, an Int32Array or a tensor [N]
 * of integer values, as PyTorch takes a LongTensor), every one an integer in [0, classes).
 */
function classLabels(labels: Tensor | Int32Array | readonly number[], n: number, classes: number): Int32Array {
  if (labels instanceof Tensor && labels.ndim !== 1)
    throw new ShapeError(`cross_entropy: labels ${shapeText(labels.shape)} must be one class index per sample, [${n}]`);
  const values = labels instanceof Tensor ? labels.toArray() : labels;
  if (values.length !== n) throw new ShapeError(`cross_entropy: ${values.length} labels for a batch of ${n}`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) throw new DataError(`cross_entropy: label ${v} at index ${i} is not an integer class index`);
    if (v < 0 || v >= classes) throw new DataError(`cross_entropy: label ${v} at index ${i} is outside [0, ${classes})`);
    out[i] = v;
  }
  return out;
}

export function logSoftmax(x: Tensor): Tensor {
  const [n, c] = checkLogits('log_softmax', x);
  const backend = x.backend;
  const y = backend.logSoftmax(x.storage, n, c);
  const out: Tensor = makeResult(y, x.shape, backend, [x], () => ({
    name: 'log_softmax',
    inputs: [x],
    backward: (gy) => [backend.logSoftmaxBackward(gy, out.storage, n, c)],
    release() {},
  }));
  return out;
}

/**
 * Mean cross-entropy of logits [N, C] against labels: N class indices in [0, C), as a list, an
 * Int32Array or an integer-valued tensor [N]. Returns a scalar tensor.
 */
export function crossEntropy(logits: Tensor, labels: Tensor | Int32Array | readonly number[]): Tensor {
  const [n, c] = checkLogits('cross_entropy', logits);
  const lab = classLabels(labels, n, c);
  const backend = logits.backend;
  const { loss, probs } = backend.softmaxCrossEntropy(logits.storage, lab, n, c);
  const lossStorage = backend.fromArray(logits.dtype === 'float64' ? Float64Array.of(loss) : Float32Array.of(loss), []);
  return makeResult(
    lossStorage,
    [],
    backend,
    [logits],
    () => ({
      name: 'cross_entropy',
      inputs: [logits],
      backward(gy) {
        const [scale] = backend.toArray(gy, []);
        if (scale === undefined) throw new Error('cross_entropy backward: the output gradient holds no value');
        return [backend.softmaxCrossEntropyBackward(probs, lab, n, c, scale)];
      },
      release: () => backend.dispose(probs),
    }),
    [probs],
  );
}
