#!/usr/bin/env bash
# Compiles cuda/*.cu to PTX (compute_75, runs on Turing and later through the driver's JIT) into
# OUT_DIR (default src/main/resources/dev/rnnrt/cuda). The PTX is committed, so a build without
# nvcc still has the kernels; cuda/check-ptx.sh fails when the committed PTX is stale.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../src/main/resources/dev/rnnrt/cuda}"
if ! command -v nvcc >/dev/null 2>&1; then
  echo "build-ptx: nvcc not found (install the CUDA toolkit to rebuild); skipped compiling cuda/*.cu and kept the committed PTX in $out" >&2
  exit 0
fi
mkdir -p "$out"
echo "build-ptx: $(nvcc --version | tail -1); compiling cuda/*.cu to PTX in $out" >&2
for cu in "$here"/*.cu; do
  name="$(basename "$cu" .cu)"
  nvcc -ptx -arch=compute_75 -O3 -I "$here" -o "$out/$name.ptx" "$cu"
done
