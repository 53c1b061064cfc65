// Shapes: element counts, their text in messages, and the one check every shape passes where a
// tensor is made (dimensions are non-negative safe integers, the element count fits a typed array).
import { ShapeError } from './errors.js';

export type Shape = readonly number[];

/** The most elements one tensor may hold: the longest typed array V8 makes (2^32 - 1). */
export const MAX_ELEMENTS = 2 ** 32 - 1;

/** Number of elements of a shape ([] is a scalar: 1). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The shape with dimensions startDim.. made one, as torch.flatten: [N, C, H, W] → [N, C·H·W] for 1. */
export function flattenedShape(shape: Shape, startDim = 1): number[] {
  return [...shape.slice(0, startDim), numel(shape.slice(startDim))];
}

/** '[2, 3, 224, 224]', as shapes appear in messages. */
export function shapeText(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Throws a ShapeError naming `what` unless every dimension is a non-negative safe integer and the count fits. */
export function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new ShapeError(`${what}: shape ${shapeText(shape)} has a dimension that is not a non-negative integer`);
  }
  const n = numel(shape);
  if (n > MAX_ELEMENTS)
    throw new ShapeError(`${what}: shape ${shapeText(shape)} has ${n} elements, more than the ${MAX_ELEMENTS} one tensor may hold`);
}
