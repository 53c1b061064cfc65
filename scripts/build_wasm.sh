#!/usr/bin/env bash
# Builds the WebAssembly kernels of the wasm backend from every wasm/*.c (freestanding C, no libc)
# with Debian's clang and wasm-ld, into dist/wasm/ (shipped in the package: users need no compiler):
#   alexnet.wasm             SIMD128, plain imported memory, one thread
#   alexnet_mt.wasm          + atomics and shared imported memory (Web Workers / worker_threads);
#                            exports __stack_pointer so each thread's instance gets its own stack
#   alexnet_relaxed.wasm     the two above with relaxed-SIMD FMA (f32x4.relaxed_madd) in the GEMM;
#   alexnet_mt_relaxed.wasm  load them only where WebAssembly.validate accepts relaxed SIMD
# clang 14 emits relaxed FMA with its pre-standard opcode (0xfd 0xaf 0x01, "f32x4.fma"), which V8
# rejects; scripts/wasm_relaxed_simd.js rewrites it to the standard relaxed_madd (0xfd 0x85 0x02,
# same length, same operand order a·b + c) and checks that exactly the compiler's count was found.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "build_wasm: $*" >&2
  exit 1
}

CLANG="${CLANG:-}"
if [ -z "$CLANG" ]; then
  for candidate in clang-14 clang; do
    if command -v "$candidate" >/dev/null 2>&1; then
      CLANG="$candidate"
      break
    fi
  done
fi
[ -n "$CLANG" ] && command -v "$CLANG" >/dev/null 2>&1 ||
  die "clang not found${CLANG:+ ($CLANG)}: install the Debian package clang-14 (or set CLANG=/path/to/clang)"
LINKER="$("$CLANG" --target=wasm32 -print-prog-name=wasm-ld)"
command -v "$LINKER" >/dev/null 2>&1 || [ -x "$LINKER" ] ||
  die "wasm-ld not found (clang looked for '$LINKER'): install the Debian package lld (lld-14)"
echo 'int f(void){return 0;}' | "$CLANG" --target=wasm32 -x c -c -o /dev/null - 2>/dev/null ||
  die "$CLANG cannot compile for wasm32: install clang-14 from Debian (its WebAssembly target)"

mapfile -t SOURCES < <(ls wasm/*.c | sort)
[ "${#SOURCES[@]}" -gt 0 ] || die "no sources in wasm/"
OUT=dist/wasm
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

CFLAGS=(--target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -fno-builtin -nostdlib -std=c11
  -Wall -Wextra -Werror -Iwasm)
LDFLAGS=(-Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory -Wl,--stack-first -Wl,-z,stack-size=1048576
  -Wl,--export=__heap_base -Wl,--export=__data_end)
MT_CFLAGS=(-matomics -mmutable-globals)
MT_FLAGS=("${MT_CFLAGS[@]}" -Wl,--shared-memory -Wl,--max-memory=4294967296 -Wl,--export=__stack_pointer)
RELAXED_FLAGS=(-mrelaxed-simd -DALEXNET_RELAXED_SIMD)

build() { # build NAME EXTRA_FLAGS...
  local name="$1"
  shift
  "$CLANG" "${CFLAGS[@]}" "$@" "${LDFLAGS[@]}" "${SOURCES[@]}" -o "$TMP/$name"
}

# The number of relaxed FMA instructions the compiler emitted, from its assembly of every source.
count_fma() { # count_fma EXTRA_FLAGS...
  local total=0 src n
  for src in "${SOURCES[@]}"; do
    "$CLANG" "${CFLAGS[@]}" "$@" -S -o "$TMP/asm.s" "$src"
    if grep -Eq '^\s+(f32x4|f64x2|i8x16|i16x8|i32x4)\.(fms|relaxed|laneselect)|^\s+f64x2\.fma' "$TMP/asm.s"; then
      die "$src uses a relaxed-SIMD instruction other than f32x4.fma; teach scripts/wasm_relaxed_simd.js its opcode"
    fi
    n=$(grep -Ec '^\s+f32x4\.fma(\s|$)' "$TMP/asm.s" || true)
    total=$((total + n))
  done
  echo "$total"
}

build alexnet.wasm
build alexnet_mt.wasm "${MT_FLAGS[@]}"
build alexnet_relaxed.wasm "${RELAXED_FLAGS[@]}"
build alexnet_mt_relaxed.wasm "${MT_FLAGS[@]}" "${RELAXED_FLAGS[@]}"
FMA_ST=$(count_fma "${RELAXED_FLAGS[@]}")
FMA_MT=$(count_fma "${MT_CFLAGS[@]}" "${RELAXED_FLAGS[@]}")
node scripts/wasm_relaxed_simd.js "$TMP/alexnet_relaxed.wasm" "$FMA_ST"
node scripts/wasm_relaxed_simd.js "$TMP/alexnet_mt_relaxed.wasm" "$FMA_MT"

for f in alexnet.wasm alexnet_mt.wasm alexnet_relaxed.wasm alexnet_mt_relaxed.wasm; do
  mv "$TMP/$f" "$OUT/$f"
done
echo "build_wasm: $OUT/{alexnet,alexnet_mt,alexnet_relaxed,alexnet_mt_relaxed}.wasm from ${#SOURCES[@]} sources ($FMA_ST relaxed FMA)"
