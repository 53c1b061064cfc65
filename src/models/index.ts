// The three AlexNets.
export { ARCHS, createModel, isArchName } from './alexnet.js';
export { AlexNet, paperInit, xavierInit, type ArchName, type InitScheme, type ModelOptions, type Stage } from './alexnet_base.js';
