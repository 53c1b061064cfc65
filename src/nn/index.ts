// Neural-network layers and the Module base, mirroring torch.nn.
export { ReLU } from './activation.js';
export { Conv2d, type Conv2dOptions } from './conv.js';
export { Dropout } from './dropout.js';
export { constant_, normal_, pytorchDefaultInit, uniform_ } from './init.js';
export { Linear } from './linear.js';
export { LocalResponseNorm } from './lrn.js';
export { Module, type StateDict } from './module.js';
export { AdaptiveAvgPool2d, MaxPool2d } from './pool.js';
export { Sequential } from './sequential.js';
