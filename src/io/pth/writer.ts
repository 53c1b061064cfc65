// Writes a state dict in torch.save's zip format, readable by torch.load(weights_only=True) in
// PyTorch 1.13+: archive/data.pkl (protocol 2: an OrderedDict of _rebuild_tensor_v2 calls whose
// storages are persistent ids ('storage', torch.FloatStorage, key, 'cpu', numel)),
// archive/byteorder, one archive/data/<key> entry per tensor (little-endian float32, 64-byte
// aligned) and archive/version.
import { PickleEncoder } from '../pickle/encoder.js';
import { numel, type TensorMap } from '../tensor_map.js';
import { ZipWriter } from './zip.js';

/** C-order strides of a shape. */
function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The bytes of a .pth file holding `tensors` (as float32) in order. */
export function encodePth(tensors: TensorMap | Map<string, { shape: readonly number[]; data: Float32Array }>): Uint8Array[] {
  const p = new PickleEncoder().proto();
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  const storages: Uint8Array[] = [];
  if (tensors.size > 0) p.mark();
  for (const [name, t] of tensors) {
    const count = numel(t.shape);
    if (count !== t.data.length)
      throw new Error(`encodePth: tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const key = String(storages.length);
    storages.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    p.str(name);
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str(key).str('cpu').int(count).tuple().binPersId();
    p.int(0).tupleOfInts(t.shape).tupleOfInts(contiguousStrides(t.shape)).bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tuple().reduce();
  }
  if (tensors.size > 0) p.setItems();
  p.stop();
  const zip = new ZipWriter();
  zip.add('archive/data.pkl', p.finish());
  zip.add('archive/byteorder', new TextEncoder().encode('little'));
  storages.forEach((bytes, i) => zip.add(`archive/data/${i}`, bytes));
  zip.add('archive/version', new TextEncoder().encode('3\n'));
  return zip.finish();
}
