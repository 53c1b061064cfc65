// PyTorch .pth/.pt files: the safe reader (both torch.save containers) and the zip writer.
import { writeFileAtomic } from '../write_atomic.js';
import type { TensorMap } from '../tensor_map.js';
import { encodePth } from './writer.js';

export { parsePth, readPth, findStateDict, type PthFormat, type PthObject, type ReadPthOptions } from './reader.js';
export { encodePth } from './writer.js';

/** Writes a state dict as a torch.save zip file that torch.load(weights_only=True) reads. */
export function writePth(path: string, tensors: TensorMap | Map<string, { shape: readonly number[]; data: Float32Array }>): void {
  writeFileAtomic(path, encodePth(tensors));
}
