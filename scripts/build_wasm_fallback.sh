#!/bin/sh
# Minimal build of the wasm backend's module for the wasm-backend worktree, until the kernels
# helper's scripts/build_wasm.sh is merged (which replaces this script). Compiles every wasm/*.c
# (wasm/fallback_dense.c only while no wasm/conv*.c exists) twice, as the binding interface says:
#   dist/wasm/alexnet.wasm     plain imported memory, one thread
#   dist/wasm/alexnet_mt.wasm  shared imported memory (atomics, bulk memory), __stack_pointer exported
set -eu
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-14}
command -v "$CLANG" >/dev/null 2>&1 || { echo "build_wasm_fallback: $CLANG not found (Debian package clang-14)" >&2; exit 1; }
command -v wasm-ld >/dev/null 2>&1 || { echo "build_wasm_fallback: wasm-ld not found (Debian package lld)" >&2; exit 1; }
SOURCES=""
for f in wasm/*.c; do
  if [ "$f" = wasm/fallback_dense.c ] && ls wasm/conv*.c >/dev/null 2>&1; then continue; fi
  SOURCES="$SOURCES $f"
done
mkdir -p dist/wasm
COMMON="--target=wasm32 -O3 -msimd128 -nostdlib -Wall -Wextra -Werror -Wl,--no-entry -Wl,--export-dynamic -Wl,--import-memory"
# shellcheck disable=SC2086
"$CLANG" $COMMON -o dist/wasm/alexnet.wasm $SOURCES
# shellcheck disable=SC2086
"$CLANG" $COMMON -matomics -mbulk-memory -mmutable-globals -Wl,--shared-memory -Wl,--max-memory=4294967296 -Wl,--export=__stack_pointer \
  -o dist/wasm/alexnet_mt.wasm $SOURCES
echo "build_wasm_fallback: dist/wasm/alexnet.wasm, dist/wasm/alexnet_mt.wasm from$SOURCES"
