// alexnet: the library's public API on Node (package.json "exports": "node"/"default"). The
// browser's entry is browser.ts: the same library without what needs Node (files by path, the
// native addon, ONNX files, the data pipeline).
export type { Backend, DType, FloatArray, Shape, Storage } from './backend/backend.js';
export { getBackend, nativeBackend, referenceBackend, setBackend, type BackendName } from './backend/registry.js';
export { loadWasmBackend, type WasmBackend, type WasmOptions } from './backend/wasm/index.js';
export { loadWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from './backend/webgpu/index.js';
export { DataError, DeviceError, ShapeError, UsageError } from './errors.js';
export { ARCHS, AlexNet, createModel, isArchName, paperInit, type ArchName, type ModelOptions } from './models/index.js';
export * as nn from './nn/index.js';
export * from './ops/index.js';
export * from './optim/index.js';
export { Generator, defaultGenerator, manualSeed } from './random.js';
export { summary, summaryRows, type SummaryOptions } from './summary/summary.js';
export { isGradEnabled, keep, liveTensorCount, noGrad, Tensor, tidy, type BackwardOptions, type TensorOptions } from './tensor.js';
export * as io from './io/index.js';
export {
  loadWeights,
  saveWeights,
  exportOnnx,
  readPth,
  writePth,
  readSafetensors,
  writeSafetensors,
  readNpy,
  writeNpy,
  loadWeightsFrom,
  loadModel,
  saveWeightsBlob,
} from './io/index.js';
export * as data from './data/index.js';
export { loadPretrained, type PretrainedOptions } from './io/pretrained.js';
export { Int8AlexNet } from './quant/int8_model.js';
export {
  int8Model,
  isQuantizedFile,
  loadInt8File,
  loadModelFile,
  readQuantizedFile,
  writeQdqOnnxFile,
  writeQuantizedFile,
  type LoadedModel,
} from './quant/load.js';
export { calibrate, quantizeModel, type QuantizedModel } from './quant/quantize.js';
export * as quant from './quant/neutral.js';
