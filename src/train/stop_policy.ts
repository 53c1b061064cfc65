// When training stops before its planned epochs: on SIGINT/SIGTERM (after the step under way; a
// second signal quits at once), at --max-steps, or when the time budget (--time-limit, the quick
// start's 10 minutes) would not leave time for the evaluation and the final files.
import type { TrainConfig } from './config.js';
import { formatDuration } from './progress.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Time kept for the final files beyond an evaluation (seconds). */
const FINAL_FILES_S = 15;

export class StopPolicy {
  /** The signal that asked the run to stop, if one did. */
  signal: NodeJS.Signals | null = null;
  /** What asked the run to stop, for messages: the signal's name, or mpirun's abort. */
  cause: string | null = null;
  private evalSeconds = 0;

  constructor(
    private readonly config: Pick<TrainConfig, 'maxSteps' | 'timeLimitS'>,
    /** Seconds of the run so far (all sessions). */
    private readonly elapsed: () => number,
    /** Images in the validation split. */
    private readonly valImages: () => number,
  ) {}

  /**
   * Listens for SIGINT/SIGTERM (and `extra`: a distributed run also stops on SIGUSR2, which
   * mpirun forwards to every rank); returns the function that stops listening.
   */
  listen(extra: readonly NodeJS.Signals[] = []): () => void {
    const handler = (sig: NodeJS.Signals): void => {
      // mpirun's abort (see request) follows its SIGCONT with a SIGTERM: the same request.
      if (this.signal === 'SIGCONT' && sig === 'SIGTERM') return;
      if (this.signal) {
        process.stderr.write(`alexnet: second ${sig}: exiting without a checkpoint\n`);
        process.exit(130);
      }
      this.request(sig, sig, 'press again to quit at once');
    };
    const signals = [...STOP_SIGNALS, ...extra];
    for (const s of signals) process.on(s, handler);
    return () => {
      for (const s of signals) process.off(s, handler);
    };
  }

  /**
   * Asks the run to stop after the step under way and write a checkpoint, as a first signal does.
   * `cause` names the request in messages; `note` is added to the one printed now.
   */
  request(sig: NodeJS.Signals, cause: string, note: string): void {
    if (this.signal) return;
    this.signal = sig;
    this.cause = cause;
    process.stderr.write(`\nalexnet: ${cause} received: finishing the step and writing a checkpoint (${note})\n`);
  }

  /** Why no more steps may be taken after `step` steps in total, or null. */
  stepLimit(step: number): string | null {
    const max = this.config.maxSteps;
    return max !== null && step >= max ? `--max-steps ${max} reached` : null;
  }

  /**
   * Why training stops after a step, or null: the step limit, or the time budget when one more
   * step (as long as the last, `stepS`) and the evaluation would overrun it.
   * `imgPerS`: the epoch's training speed so far, to estimate the first evaluation.
   */
  afterStep(step: number, stepS: number, imgPerS: number): string | null {
    const limit = this.stepLimit(step);
    if (limit) return limit;
    const budget = this.config.timeLimitS;
    if (budget !== null && this.elapsed() + this.reserve(imgPerS) + stepS >= budget)
      return `time budget of ${formatDuration(budget)} reached`;
    return null;
  }

  /** Records how long an evaluation took: the time kept for the next one. */
  evaluated(seconds: number): void {
    this.evalSeconds = seconds;
  }

  /** Time kept for evaluation and the final files: the last evaluation's duration, or before the first one an estimate (a forward pass costs about a third of a training step). */
  private reserve(imgPerS: number): number {
    return FINAL_FILES_S + (this.evalSeconds || this.valImages() / (3 * Math.max(imgPerS, 1)));
  }
}
