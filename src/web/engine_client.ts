// The page's side of the engine worker: request(type, …) → a promise of that request's result;
// errors come back as EngineError with the engine's one-line message; training progress goes to
// the listener set with onTrainStep.
import type { Reply, Request, Results, TrainProgress } from './protocol.js';

export class EngineError extends Error {
  constructor(
    message: string,
    readonly kind: 'usage' | 'data' | 'internal',
  ) {
    super(message);
  }
}

type Pending = { resolve: (r: Results[keyof Results]) => void; reject: (e: Error) => void };

export class Engine {
  private readonly worker = new Worker(new URL('./engine.js', import.meta.url), { type: 'module' });
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  onTrainStep: (p: TrainProgress) => void = () => {};

  constructor() {
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      const reply = e.data;
      if ('event' in reply) return this.onTrainStep(reply.progress);
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply.result);
      else p?.reject(new EngineError(reply.error, reply.kind));
    };
    this.worker.onerror = (e) => {
      for (const p of this.pending.values()) p.reject(new EngineError(`the engine stopped: ${e.message}`, 'internal'));
      this.pending.clear();
    };
  }

  request<T extends Request['type']>(request: Extract<Request, { type: T }>, transfer: Transferable[] = []): Promise<Results[T]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject });
      this.worker.postMessage({ id, request }, transfer);
    });
  }
}
