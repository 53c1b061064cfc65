// summary(): the table torchsummary 1.5.1 prints for a model — one row per leaf module in
// forward order, its output shape (batch -1 unless given) and parameter count, the totals and
// the four size lines in MB — computed from shapes alone, without running the model. With
// `flops`, a column of multiply-accumulates per layer and their total is added.
import type { Shape } from '../backend/backend.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import type { Module } from '../nn/module.js';
import type { Stage } from '../models/alexnet_base.js';
import { ShapeError, UsageError } from '../errors.js';
import { flattenedShape, numel, shapeText } from '../shape.js';
import { pyFixed, rjust, withCommas } from './format.js';

/** A model that can list its leaf modules in forward order (the AlexNets do). */
export interface Summarizable {
  stages(): Stage[];
  /** Throws when `input` cannot go through, naming `shown` as the shape given. */
  checkInput?(input: Shape, shown: Shape): void;
}

export interface SummaryOptions {
  /** torchsummary's batch_size: -1 (default) prints -1 as the batch dimension. */
  batchSize?: number;
  /** Add multiply-accumulate counts per layer and in total. */
  flops?: boolean;
}

export interface SummaryRow {
  name: string;
  outputShape: number[];
  params: number;
  trainable: boolean;
  macs: number;
}

/** Rows as torchsummary's hooks would record them, for input [C, H, W]. */
export function summaryRows(model: Summarizable, input: readonly number[], batchSize = -1): SummaryRow[] {
  if (input.length !== 3 || input.some((d) => !Number.isSafeInteger(d) || d < 1))
    throw new ShapeError(`summary: input ${shapeText(input)} is not [C, H, W] of positive integers`);
  if (batchSize !== -1 && !(Number.isSafeInteger(batchSize) && batchSize >= 1))
    throw new UsageError(`summary: batchSize must be -1 or a positive integer, got ${batchSize}`);
  // torchsummary runs the model on a batch of 2; shapes are computed for that and the batch
  // dimension is then replaced by batchSize, in rows and in messages alike.
  const first: Shape = [2, ...input];
  model.checkInput?.(first, [batchSize, ...input]);
  let shape: Shape = first;
  const rows: SummaryRow[] = [];
  for (const stage of model.stages()) {
    if (stage === 'flatten') {
      shape = flattenedShape(shape);
      continue;
    }
    const inShape = shape;
    shape = stage.outputShape(shape);
    rows.push({
      name: `${stage.typeName}-${rows.length + 1}`,
      outputShape: [batchSize, ...shape.slice(1)],
      params: layerParams(stage),
      trainable: weightOf(stage)?.requiresGrad ?? false,
      macs: stage instanceof Conv2d ? stage.macs(inShape) : stage instanceof Linear ? stage.macs() : 0,
    });
  }
  return rows;
}

function weightOf(m: Module): { size: number; requiresGrad: boolean } | null {
  return m.ownParameters().find(([n]) => n === 'weight')?.[1] ?? null;
}

/** torchsummary counts `weight` and `bias` of a module only. */
function layerParams(m: Module): number {
  return m
    .ownParameters()
    .filter(([n]) => n === 'weight' || n === 'bias')
    .reduce((s, [, p]) => s + p.size, 0);
}

export function summary(model: Summarizable, input: readonly number[], opts: SummaryOptions = {}): string {
  const batchSize = opts.batchSize ?? -1;
  const rows = summaryRows(model, input, batchSize);
  const flops = opts.flops ?? false;
  const rule = '-'.repeat(64) + (flops ? '-'.repeat(16) : '');
  const double = '='.repeat(64) + (flops ? '='.repeat(16) : '');
  const lines: string[] = [];
  const row = (a: string, b: string, c: string, d?: string) =>
    `${rjust(a, 20)}  ${rjust(b, 25)} ${rjust(c, 15)}` + (flops ? ` ${rjust(d ?? '', 15)}` : '');
  lines.push(rule, row('Layer (type)', 'Output Shape', 'Param #', 'MACs'), double);
  let totalParams = 0;
  let trainable = 0;
  let totalOutput = 0;
  let totalMacs = 0;
  for (const r of rows) {
    lines.push(row(r.name, shapeText(r.outputShape), withCommas(r.params), withCommas(r.macs)));
    totalParams += r.params;
    if (r.trainable) trainable += r.params;
    totalOutput += numel(r.outputShape);
    totalMacs += r.macs;
  }
  const mb = 1024 ** 2;
  const inputSize = Math.abs((numel(input) * batchSize * 4) / mb);
  const outputSize = Math.abs((2 * totalOutput * 4) / mb);
  const paramsSize = Math.abs((totalParams * 4) / mb);
  lines.push(double);
  lines.push(`Total params: ${withCommas(totalParams)}`);
  lines.push(`Trainable params: ${withCommas(trainable)}`);
  lines.push(`Non-trainable params: ${withCommas(totalParams - trainable)}`);
  if (flops) lines.push(`Total MACs: ${withCommas(totalMacs)} (${pyFixed(totalMacs / 1e9, 3)} G)`);
  lines.push(rule);
  lines.push(`Input size (MB): ${pyFixed(inputSize, 2)}`);
  lines.push(`Forward/backward pass size (MB): ${pyFixed(outputSize, 2)}`);
  lines.push(`Params size (MB): ${pyFixed(paramsSize, 2)}`);
  lines.push(`Estimated Total Size (MB): ${pyFixed(paramsSize + outputSize + inputSize, 2)}`);
  lines.push(rule);
  return lines.join('\n') + '\n';
}
