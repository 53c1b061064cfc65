// Feature test for relaxed SIMD: validates a one-function module that executes the standard
// f32x4.relaxed_madd (0xfd 0x105) on three zero vectors, as the relaxed kernel builds do.

const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const BODY = [0x00, ...V128_ZERO, ...V128_ZERO, ...V128_ZERO, 0xfd, 0x85, 0x02, 0x0b];
const PROBE = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
  ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type section: () -> v128
  ...[0x03, 0x02, 0x01, 0x00], // function section: one function of type 0
  ...[0x0a, BODY.length + 2, 0x01, BODY.length, ...BODY], // code section
]);

export function relaxedSimdSupported(): boolean {
  return WebAssembly.validate(PROBE);
}
