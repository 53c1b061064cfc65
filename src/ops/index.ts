// Public ops: shape checks and autograd recording over the current Backend.
export { relu } from './activation.js';
export { conv2d, type Conv2dOptions } from './conv.js';
export { dropout } from './dropout.js';
export { add, addScalar, div, exp, log, mul, mulScalar, neg, sqrt, sub } from './elementwise.js';
export { linear } from './linear.js';
export { crossEntropy, logSoftmax } from './loss.js';
export { localResponseNorm } from './lrn.js';
export { adaptiveAvgPool2d, maxPool2d, type MaxPool2dOptions } from './pool.js';
export { mean, sum } from './reduce.js';
export { flatten, reshape } from './shape.js';
