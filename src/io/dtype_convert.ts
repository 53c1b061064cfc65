// Element decoding shared by the .pth and safetensors readers: raw little-endian bytes of one
// element type → float32 (half, bfloat16, float64 and integers are converted).
export type ElementType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const ELEMENT_SIZE: Record<ElementType, number> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** IEEE half → number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Scratch for bfloat16 → float32: the bf16 bits are the top half of an f32's. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Returns a function reading element i (an element index, not a byte offset) of `bytes`. */
export function elementReader(type: ElementType, bytes: Uint8Array): (i: number) => number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case 'float32':
      return (i) => v.getFloat32(i * 4, true);
    case 'float64':
      return (i) => v.getFloat64(i * 8, true);
    case 'float16':
      return (i) => halfToFloat(v.getUint16(i * 2, true));
    case 'bfloat16':
      return (i) => {
        u32[0] = v.getUint16(i * 2, true) << 16;
        return f32[0]!;
      };
    case 'int64':
      return (i) => Number(v.getBigInt64(i * 8, true));
    case 'int32':
      return (i) => v.getInt32(i * 4, true);
    case 'int16':
      return (i) => v.getInt16(i * 2, true);
    case 'int8':
      return (i) => v.getInt8(i);
    case 'uint8':
      return (i) => v.getUint8(i);
    case 'bool':
      return (i) => (v.getUint8(i) ? 1 : 0);
  }
}

/** Contiguous elements [start, start+count) of `bytes` as float32. */
export function toFloat32(type: ElementType, bytes: Uint8Array, start: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (type === 'float32') {
    new Uint8Array(out.buffer).set(bytes.subarray(start * 4, (start + count) * 4));
    return out;
  }
  const read = elementReader(type, bytes);
  for (let i = 0; i < count; i++) out[i] = read(start + i);
  return out;
}
