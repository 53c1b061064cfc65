// Whether this engine has relaxed SIMD: validates a one-function module that computes
// f32x4.relaxed_madd (opcode 0xfd 0x105) on three zero vectors, the instruction the kernels'
// relaxed builds (alexnet_relaxed.wasm, alexnet_mt_relaxed.wasm) use for their FMA.

const ZERO_V128 = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
const BODY = [0x00, ...ZERO_V128, ...ZERO_V128, ...ZERO_V128, 0xfd, 0x85, 0x02, 0x0b]; // no locals; madd; end
const PROBE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
  ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // types: () -> v128
  ...[0x03, 0x02, 0x01, 0x00], // one function of type 0
  ...[0x0a, BODY.length + 2, 0x01, BODY.length, ...BODY], // its code
]);

let supported: boolean | null = null;

export function relaxedSimdSupported(): boolean {
  supported ??= WebAssembly.validate(PROBE);
  return supported;
}
