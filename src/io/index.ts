// PyTorch interop on Node: .pth (safe reader for both torch.save containers, zip writer),
// safetensors, .npy, ONNX export, and loading/saving model weights by file path — plus the
// platform-neutral functions on bytes, Blobs and URLs (neutral.ts, the browser's `io`).
export { encodeNpy, npyToFloat32, parseNpy, readNpy, writeNpy, type NpyArray, type NpyData, type NpyDType } from './npy.js';
export { encodePth, findStateDict, parsePth, readPth, writePth, type PthFormat, type PthObject } from './pth/index.js';
export { encodeSafetensors, parseSafetensors, readSafetensors, writeSafetensors, type SafetensorsContents } from './safetensors.js';
export { exportOnnx, writeOnnx, ONNX_OPSET } from './onnx/export.js';
export {
  detectWeightsFormat,
  loadTensorMap,
  loadWeights,
  readWeightsFile,
  saveWeights,
  stateDictArrays,
  type WeightsFormat,
} from './weights.js';
// The rest (weights from bytes, Blobs and URLs; the model a state dict describes) is neutral.ts's;
// the names above that it also exports are the path-capable versions, which take precedence here.
export * from './neutral.js';
