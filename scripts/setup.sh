#!/usr/bin/env bash
# Sets up a fresh Debian (bookworm) machine for alexnet: system packages (oneDNN for the native
# backend, libjpeg-turbo for the loader's JPEG decoder, Fashion-MNIST for the default training
# job, a C++ toolchain; clang and lld for the WebAssembly kernels, Chromium for the browser tests,
# Open MPI for distributed training), npm packages, the native addons and the TypeScript build. Run from the
# repository root; uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES="g++ make python3 libdnnl-dev libjpeg62-turbo-dev dataset-fashion-mnist clang lld libclang-rt-14-dev-wasm32 chromium openmpi-bin libopenmpi-dev libvulkan1"
if command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
  fi
else
  echo "setup: no apt-get here; install oneDNN (libdnnl) yourself for the native backend" >&2
fi

# npm ci also builds the native addons (the install script, node-gyp-build), unless they are
# already built or prebuilt; the library falls back to the reference backend and sharp, saying
# so, when that is impossible. 'npm run build:native' rebuilds them on demand.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
npm run build
