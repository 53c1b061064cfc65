// The run's metric logs: metrics.jsonl (one JSON object per optimiser step and per epoch) and
// metrics.csv (one row per epoch, rewritten from the JSON lines). On resume, records written
// after the checkpoint (work that is being redone) are dropped so that the log reads as one run.
// Also the records' and the console lines' formats.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import type { EpochTotals, RunState } from './epoch.js';
import type { EvalResult } from './evaluate.js';
import { formatDuration } from './progress.js';

export interface StepRecord {
  type: 'step';
  epoch: number;
  batch: number;
  step: number;
  loss: number;
  /** Top-1 accuracy of this batch (fraction). */
  top1: number;
  lr: number;
  img_per_s: number;
  time_s: number;
  /** Distributed runs: seconds this step waited for the other ranks' gradients after its backward. */
  comm_wait_s?: number;
}

export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  step: number;
  train_loss: number;
  train_top1: number;
  val_loss: number | null;
  val_top1: number | null;
  val_top5: number | null;
  lr: number;
  epoch_s: number;
  img_per_s: number;
  time_s: number;
  /** Batches trained in this epoch (fewer than the epoch has when a time or step limit cut it). */
  batches: number;
  batches_total: number;
}

export type MetricRecord = StepRecord | EpochRecord;

export class MetricsLog {
  readonly jsonlPath: string;
  readonly csvPath: string;

  constructor(readonly runDir: string) {
    this.jsonlPath = join(runDir, 'metrics.jsonl');
    this.csvPath = join(runDir, 'metrics.csv');
  }

  read(): MetricRecord[] {
    if (!existsSync(this.jsonlPath)) return [];
    const out: MetricRecord[] = [];
    for (const line of readFileSync(this.jsonlPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as MetricRecord);
      } catch {
        // A line cut short by a kill: it is redone after the resume.
      }
    }
    return out;
  }

  /** Keeps only what happened up to `step` optimiser steps and `epochs` completed epochs. */
  truncate(step: number, epochs: number): void {
    const kept = this.read().filter((r) => (r.type === 'step' ? r.step <= step : r.epoch <= epochs));
    writeFileAtomic(this.jsonlPath, [Buffer.from(kept.map((r) => JSON.stringify(r) + '\n').join(''))]);
    this.writeCsv(kept);
  }

  append(r: MetricRecord): void {
    appendFileSync(this.jsonlPath, JSON.stringify(r) + '\n');
  }

  epochs(records = this.read()): EpochRecord[] {
    return records.filter((r): r is EpochRecord => r.type === 'epoch');
  }

  steps(records = this.read()): StepRecord[] {
    return records.filter((r): r is StepRecord => r.type === 'step');
  }

  writeCsv(records = this.read()): void {
    const cols: (keyof EpochRecord)[] = [
      'epoch',
      'step',
      'train_loss',
      'train_top1',
      'val_loss',
      'val_top1',
      'val_top5',
      'lr',
      'epoch_s',
      'img_per_s',
      'time_s',
      'batches',
      'batches_total',
    ];
    const rows = this.epochs(records).map((e) => cols.map((c) => (e[c] === null ? '' : String(e[c]))).join(','));
    writeFileAtomic(this.csvPath, [Buffer.from([cols.join(','), ...rows].join('\n') + '\n')]);
  }
}

/** The record of one optimiser step, just taken (`state` already counts it). */
export function stepRecord(o: {
  state: RunState;
  loss: number;
  top1: number;
  lr: number;
  images: number;
  seconds: number;
  time: number;
}): StepRecord {
  return {
    type: 'step',
    epoch: o.state.epoch + 1,
    batch: o.state.batch,
    step: o.state.step,
    loss: o.loss,
    top1: o.top1,
    lr: o.lr,
    img_per_s: o.images / Math.max(o.seconds, 1e-9),
    time_s: o.time,
  };
}

/** The record of a finished epoch (1-based `epoch`) from its training totals and its evaluation. */
export function epochRecord(o: {
  epoch: number;
  step: number;
  totals: EpochTotals;
  val: EvalResult;
  lr: number;
  evalS: number;
  time: number;
  batchesTotal: number;
}): EpochRecord {
  const t = o.totals;
  return {
    type: 'epoch',
    epoch: o.epoch,
    step: o.step,
    train_loss: t.lossSum / Math.max(t.seen, 1),
    train_top1: t.correct / Math.max(t.seen, 1),
    val_loss: o.val.loss,
    val_top1: o.val.top1,
    val_top5: o.val.top5,
    lr: o.lr,
    epoch_s: t.trainS + o.evalS,
    img_per_s: t.seen / Math.max(t.trainS, 1e-9),
    time_s: o.time,
    batches: t.batches,
    batches_total: o.batchesTotal,
  };
}

const percent = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** The console line of a finished epoch. */
export function epochLine(epochs: number, r: EpochRecord, isBest: boolean): string {
  const val = `val loss ${(r.val_loss ?? NaN).toFixed(4)}, top-1 error ${percent(1 - (r.val_top1 ?? 0))}, top-5 error ${percent(1 - (r.val_top5 ?? 0))}`;
  return `epoch ${r.epoch}/${epochs}: train loss ${r.train_loss.toFixed(4)}, train top-1 ${percent(r.train_top1)} | ${val} | lr ${Number(r.lr.toPrecision(4))} | ${formatDuration(r.epoch_s)} (${r.img_per_s.toFixed(0)} img/s)${isBest ? ' | best' : ''}`;
}

/** The lines that open a run: the model, the data, the optimiser and where the run is kept. */
export function startLines(
  c: TrainConfig,
  o: { parameters: number; dataName: string; trainImages: number; valImages: number; backend: string; precision: string; runDir: string },
): string[] {
  const native = c.arch === 'alexnet' ? 224 : 227;
  const fc6 = c.arch !== 'alexnet' && c.inputSize !== native ? ', FC6 sized for it' : '';
  const sizeNote =
    c.inputSize !== native ? ` (reduced input ${c.inputSize}×${c.inputSize}${fc6}; ${c.arch} normally takes ${native}×${native})` : '';
  const schedule = c.schedule === 'step' ? ` (×${c.gamma} every ${c.stepSize})` : c.schedule === 'linear' ? ' (to 0 per step)' : '';
  const precisionNote =
    c.recipe === 'fashion-mnist' && o.precision === 'bf16' ? " (the quick start's default; --precision f32 to change)" : '';
  const budget = c.timeLimitS ? `; time budget ${formatDuration(c.timeLimitS)}` : '';
  return [
    `${c.arch}: ${c.inChannels} input channel${c.inChannels > 1 ? 's' : ''}, ${c.numClasses} classes, input ${c.inChannels}×${c.inputSize}×${c.inputSize}${sizeNote}; ${o.parameters.toLocaleString('en-US')} parameters`,
    `data: ${o.dataName}: ${o.trainImages} training / ${o.valImages} validation images; recipe ${c.recipe}`,
    `SGD lr ${c.lr} momentum ${c.momentum} weight decay ${c.weightDecay}, batch ${c.batchSize}, ${c.epochs} epochs, schedule ${c.schedule}${schedule}; backend ${o.backend}, ${o.precision}${precisionNote}${budget}`,
    `run directory: ${o.runDir}`,
  ];
}

/** The line that closes a run, and the quick start's target when the run was the quick start as planned. */
export function doneLines(o: {
  epochs: number;
  last: EpochRecord | undefined;
  wallS: number;
  imgPerS: number;
  backend: string;
  precision: string;
  quickStart: boolean;
}): string[] {
  const top1 = o.last?.val_top1 ?? 0;
  const lines = [
    `done in ${formatDuration(o.wallS)}: ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, validation top-1 accuracy ${percent(top1)}, top-5 ${percent(o.last?.val_top5 ?? 0)}, ${o.imgPerS} img/s (${o.backend}, ${o.precision})`,
  ];
  if (o.quickStart) {
    const met = top1 >= 0.9 && o.wallS <= 600;
    lines.push(
      `quick start target (≥ 90% test accuracy within 10 minutes): ${met ? 'met' : 'not met'} — ${percent(top1)} in ${formatDuration(o.wallS)}`,
    );
  }
  return lines;
}
