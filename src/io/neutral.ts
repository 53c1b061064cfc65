// The platform-neutral half of io/index.ts: PyTorch interop on bytes (.pth reader and writer,
// safetensors, .npy), model weights from an ArrayBuffer, Blob/File or URL and to a Blob, and the
// model a state dict describes. The browser entry exports this as `io`.
export { encodeNpy, npyToFloat32, parseNpy, type NpyArray, type NpyData, type NpyDType } from './npy_format.js';
export { encodePth } from './pth/writer.js';
export { findStateDict, parsePth, readPth, type PthFormat, type PthObject, type PthSource } from './pth/reader.js';
export { bufferSource, type ByteSource } from './pth/zip.js';
export { encodeSafetensors, parseSafetensors, readSafetensors, type SafetensorsContents } from './safetensors_format.js';
export { loadTensorMap, stateDictArrays, weightsFormatOf, type WeightsFormat } from './state_dict.js';
export {
  encodeWeights,
  loadModel,
  loadWeightsFrom,
  readWeightsBytes,
  saveWeightsBlob,
  weightsBytes,
  type LoadModelOptions,
  type WeightsSource,
  type WeightsSourceOptions,
} from './web_weights.js';
export { inferArch, modelFromWeights } from './model_from_weights.js';
export { UnpicklingError } from './pickle/machine.js';
export type { NamedTensor, TensorMap } from './tensor_map.js';
