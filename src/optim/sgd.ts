// SGD with momentum, dampening, Nesterov and weight decay — torch.optim.SGD's exact rule:
//   d = g + wd·p;  buf = d (first step) or momentum·buf + (1 − dampening)·d;
//   d = nesterov ? d + momentum·buf : buf;  p −= lr·d.
// The update runs in the backend (one in-place kernel per parameter).
import type { SgdParams } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { keep, shapeText, Tensor } from '../tensor.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** What a checkpoint keeps of an optimiser: hyper-parameters and momentum buffers by parameter index. */
export interface SgdState {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  buffers: (Tensor | null)[];
}

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly buffers: (Tensor | null)[];

  constructor(
    readonly params: readonly Tensor[],
    opts: SgdOptions,
  ) {
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.lr >= 0)) throw new Error(`SGD: invalid learning rate ${this.lr}`);
    if (!(this.momentum >= 0)) throw new Error(`SGD: invalid momentum ${this.momentum}`);
    if (!(this.weightDecay >= 0)) throw new Error(`SGD: invalid weight decay ${this.weightDecay}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0))
      throw new Error('SGD: Nesterov momentum requires a momentum and zero dampening');
    this.buffers = params.map(() => null);
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    const p: SgdParams = {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
    };
    this.params.forEach((param, i) => {
      if (!param.grad) return;
      let buf = this.buffers[i];
      const first = this.momentum !== 0 && buf === null;
      if (first) {
        // Optimiser state outlives any tidy() scope the step runs in.
        buf = keep(new Tensor(param.backend.full(param.shape, 0, param.dtype), param.shape, param.backend));
        this.buffers[i] = buf;
      }
      param.backend.sgdStep(param.storage, param.grad.storage, this.momentum !== 0 ? buf!.storage : null, param.size, p, first);
    });
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  stateDict(): SgdState {
    return {
      lr: this.lr,
      momentum: this.momentum,
      dampening: this.dampening,
      weightDecay: this.weightDecay,
      nesterov: this.nesterov,
      buffers: [...this.buffers],
    };
  }

  /** Restores the learning rate and momentum buffers (copies); shapes must match the parameters. */
  loadStateDict(state: Pick<SgdState, 'lr' | 'buffers'>): void {
    if (state.buffers.length !== this.params.length) {
      throw new Error(`SGD state holds ${state.buffers.length} momentum buffers, the optimiser has ${this.params.length} parameters`);
    }
    this.lr = state.lr;
    state.buffers.forEach((b, i) => {
      this.buffers[i]?.dispose();
      if (!b) {
        this.buffers[i] = null;
        return;
      }
      const param = this.params[i];
      if (!param) throw new ShapeError(`SGD state: ${state.buffers.length} momentum buffers for ${this.params.length} parameters`);
      if (b.size !== param.size)
        throw new ShapeError(`SGD state: momentum buffer ${i} has shape ${shapeText(b.shape)}, parameter has ${shapeText(param.shape)}`);
      this.buffers[i] = keep(Tensor.fromArray(b.toArray(), param.shape, { backend: param.backend }));
    });
  }
}
