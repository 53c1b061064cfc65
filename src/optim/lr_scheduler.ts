// Learning-rate schedules with torch.optim.lr_scheduler's semantics: StepLR (×gamma every
// stepSize epochs) and ReduceLROnPlateau (÷10 when a metric stops improving, as the paper did).

/** Anything with a mutable learning rate. */
export interface HasLr {
  lr: number;
}

export class StepLR {
  private readonly baseLr: number;
  lastEpoch = 0;

  constructor(
    private readonly optimizer: HasLr,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.baseLr = optimizer.lr;
  }

  /** Call once per epoch, after the optimiser steps of that epoch. */
  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.baseLr * Math.pow(this.gamma, Math.floor(this.lastEpoch / this.stepSize));
  }

  stateDict(): { lastEpoch: number; baseLr: number } {
    return { lastEpoch: this.lastEpoch, baseLr: this.baseLr };
  }

  loadStateDict(s: { lastEpoch: number }): void {
    this.lastEpoch = s.lastEpoch;
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

export interface PlateauState {
  best: number;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
}

export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(
    private readonly optimizer: HasLr,
    opts: PlateauOptions = {},
  ) {
    this.mode = opts.mode ?? 'min';
    this.factor = opts.factor ?? 0.1;
    if (this.factor >= 1) throw new Error('ReduceLROnPlateau: factor should be < 1.0');
    this.patience = opts.patience ?? 10;
    this.threshold = opts.threshold ?? 1e-4;
    this.thresholdMode = opts.thresholdMode ?? 'rel';
    this.cooldown = opts.cooldown ?? 0;
    this.minLr = opts.minLr ?? 0;
    this.eps = opts.eps ?? 1e-8;
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === 'rel' ? a > best * (1 + threshold) : a > best + threshold;
  }

  /** Call once per epoch with the validation metric. */
  step(metric: number): void {
    this.lastEpoch++;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      const old = this.optimizer.lr;
      const next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.optimizer.lr = next;
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
  }

  stateDict(): PlateauState {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }

  loadStateDict(s: PlateauState): void {
    Object.assign(this, { best: s.best, numBadEpochs: s.numBadEpochs, cooldownCounter: s.cooldownCounter, lastEpoch: s.lastEpoch });
  }
}
