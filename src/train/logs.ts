// The run's metric logs: metrics.jsonl (one JSON object per optimiser step and per epoch) and
// metrics.csv (one row per epoch, rewritten from the JSON lines). On resume, records written
// after the checkpoint (work that is being redone) are dropped so that the log reads as one run.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './checkpoint.js';

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
