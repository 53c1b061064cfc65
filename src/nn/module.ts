// Module: the base of every layer and model, as in torch.nn.Module. Parameters and children are
// kept in registration order, so named parameters and state-dict keys match PyTorch's
// ('features.0.weight', 'fc_layer.6.bias', ...). Each layer also knows its output shape for a
// given input shape, which summary() and the models' input checks use without computing, and
// prints itself as PyTorch's print(module) does.
import type { Shape } from '../backend/backend.js';
import { DataError } from '../errors.js';
import { noGrad, shapeText, Tensor } from '../tensor.js';

export type StateDict = Map<string, Tensor>;

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly childModules = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /**
   * Inference without blocking the event loop where x's backend can (Backend.runAsync: the native
   * backend queues its kernels and runs them on the libuv thread pool); elsewhere synchronously.
   */
  forwardAsync(x: Tensor): Promise<Tensor> {
    return x.backend.runAsync(() => noGrad(() => this.forward(x)));
  }

  /** Output shape for an input shape (batch first); throws for inputs the layer cannot take. */
  abstract outputShape(input: Shape): Shape;

  /** The class name PyTorch prints for this module (summary rows, the printed tree). */
  get typeName(): string {
    return this.constructor.name;
  }

  /** This module's settings as PyTorch's extra_repr() writes them ('' for none). */
  extraRepr(): string {
    return '';
  }

  /** The module tree as PyTorch's repr(): `Name(settings)`, or one indented `(name): child` line per child. */
  toString(): string {
    const extra = this.extraRepr();
    const extraLines = extra ? extra.split('\n') : [];
    const childLines = [...this.childModules].map(([name, m]) => `(${name}): ${String(m).replaceAll('\n', '\n  ')}`);
    const lines = [...extraLines, ...childLines];
    if (childLines.length === 0 && lines.length === 1) return `${this.typeName}(${extra})`;
    return lines.length ? `${this.typeName}(\n  ${lines.join('\n  ')}\n)` : `${this.typeName}()`;
  }

  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (t) t.requiresGrad = true;
    this.params.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.childModules.set(name, m);
    return m;
  }

  /** Direct parameters of this module only (weight, bias). */
  ownParameters(): [string, Tensor][] {
    return [...this.params].filter((e): e is [string, Tensor] => e[1] !== null);
  }

  namedChildren(): [string, Module][] {
    return [...this.childModules];
  }

  /** This module and all below it, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.childModules) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [pname, p] of m.ownParameters()) out.push([name ? `${name}.${pname}` : pname, p]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Number of parameter elements. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** The parameters by their PyTorch names, in registration order (the tensors themselves, not copies). */
  stateDict(): StateDict {
    return new Map(this.namedParameters());
  }

  /**
   * Copies values into the parameters. With strict (the default) every key must be present,
   * none extra, and every shape equal; errors name the key and both shapes.
   */
  loadStateDict(state: StateDict | Record<string, Tensor>, opts: { strict?: boolean; source?: string } = {}): void {
    const strict = opts.strict ?? true;
    const src = state instanceof Map ? state : new Map(Object.entries(state));
    const where = opts.source ? ` in ${opts.source}` : '';
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !src.has(k));
      if (missing.length)
        throw new DataError(
          `state dict${where} is missing key '${missing[0]}'${missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''}`,
        );
      const extra = [...src.keys()].filter((k) => !own.has(k));
      if (extra.length)
        throw new DataError(
          `state dict${where} has unexpected key '${extra[0]}'${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`,
        );
    }
    for (const [key, param] of own) {
      const value = src.get(key);
      if (!value) continue;
      if (value.shape.length !== param.shape.length || value.shape.some((d, i) => d !== param.shape[i])) {
        throw new DataError(
          `state dict${where}: key '${key}' has shape ${shapeText(value.shape)}, the model expects ${shapeText(param.shape)}`,
        );
      }
    }
    noGrad(() => {
      for (const [key, param] of own) {
        const value = src.get(key);
        if (value) param.assign(value);
      }
    });
  }

  /** Sets .grad of every parameter to null (freeing it). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
}
