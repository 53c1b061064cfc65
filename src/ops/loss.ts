// Losses over logits [N, C]: log_softmax, and cross_entropy (mean over the batch, integer
// class labels) computed as one fused softmax + negative log-likelihood.
import { makeResult, shapeText, type Tensor } from '../tensor.js';

function checkLogits(op: string, x: Tensor): [number, number] {
  if (x.shape.length !== 2) throw new Error(`${op}: expected logits [N, C], got ${shapeText(x.shape)}`);
  return [x.shape[0], x.shape[1]];
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

/** Mean cross-entropy of logits [N, C] against labels (N class indices in [0, C)). Returns a scalar tensor. */
export function crossEntropy(logits: Tensor, labels: Int32Array | readonly number[]): Tensor {
  const [n, c] = checkLogits('cross_entropy', logits);
  const lab = labels instanceof Int32Array ? labels : Int32Array.from(labels);
  if (lab.length !== n) throw new Error(`cross_entropy: ${lab.length} labels for a batch of ${n}`);
  for (let i = 0; i < n; i++) {
    if (!(lab[i] >= 0 && lab[i] < c)) throw new Error(`cross_entropy: label ${lab[i]} at index ${i} is outside [0, ${c})`);
  }
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
        const scale = backend.toArray(gy, [])[0];
        return [backend.softmaxCrossEntropyBackward(probs, lab, n, c, scale)];
      },
      release: () => backend.dispose(probs),
    }),
    [probs],
  );
}
