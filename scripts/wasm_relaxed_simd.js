// Rewrites clang 14's pre-standard relaxed-SIMD FMA (f32x4.fma: 0xfd 0xaf 0x01, computing
// a·b + c with the operands in stack order (a, b, c) as clang 14 emits them for
// __builtin_wasm_fma_f32x4(a, b, c)) to the standard f32x4.relaxed_madd (0xfd 0x85 0x02) in the
// code section of a linked module, in place. Both encodings are three bytes, so no size or offset
// changes. The byte search finds every real instruction, so finding exactly as many as the
// compiler's assembly lists (the expected count) proves no immediate was mistaken for one.
//   node scripts/wasm_relaxed_simd.js FILE.wasm EXPECTED_COUNT
import { readFileSync, writeFileSync } from 'node:fs';

const OLD = [0xfd, 0xaf, 0x01];
const NEW = [0xfd, 0x85, 0x02];
const CODE_SECTION = 10;

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    if (b === undefined) throw new Error('truncated LEB128');
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return { value, next: at };
  }
}

function codeSection(bytes) {
  let at = 8; // magic + version
  while (at < bytes.length) {
    const id = bytes[at];
    const { value: size, next } = readLeb(bytes, at + 1);
    if (id === CODE_SECTION) return { start: next, end: next + size };
    at = next + size;
  }
  throw new Error('no code section');
}

const [file, expectedText] = process.argv.slice(2);
if (file === undefined || expectedText === undefined) {
  console.error('usage: node scripts/wasm_relaxed_simd.js FILE.wasm EXPECTED_COUNT');
  process.exit(2);
}
const bytes = readFileSync(file);
const { start, end } = codeSection(bytes);
const found = [];
for (let i = start; i + 2 < end; i++) {
  if (bytes[i] === OLD[0] && bytes[i + 1] === OLD[1] && bytes[i + 2] === OLD[2]) found.push(i);
}
const expected = Number(expectedText);
if (found.length !== expected) {
  console.error(`wasm_relaxed_simd: ${file}: found ${found.length} f32x4.fma byte patterns, the compiler emitted ${expected}`);
  process.exit(1);
}
for (const i of found) NEW.forEach((b, j) => (bytes[i + j] = b));
writeFileSync(file, bytes);
