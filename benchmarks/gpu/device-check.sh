#!/usr/bin/env bash
# On a GPU machine, in the project root, with .device.txz carried (gpu/pack-device.sh): unpacks
# it, then runs, each under its own time limit,
#   1. the GPU test suite (every @Tag("gpu") test)          -> gpu-tests.txt
#   2. the GPU benchmark and PyTorch/cuDNN (gpu/run-gpu.sh)  -> *.csv, env.txt, gpu-benchmark.txt
#   3. with --jmh, the JMH CUDA benchmark (gpu/run-jmh-gpu.sh) -> jmh-cuda.json, jmh-cuda.txt
# and keeps going when one part fails, so that one run brings back all it can. Everything goes into
# one file, OUT_DIR/device-check.tgz, and the test log also lies beside it. Exit status: that of the
# tests.
#
#     bash benchmarks/gpu/device-check.sh OUT_DIR [--jmh] [units,..] [batches,..] [times,..]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mkdir -p "$1" && cd "$1" && pwd)
shift
out=$(mktemp -d)
jmh=0
if [ "${1:-}" = "--jmh" ]; then
  jmh=1
  shift
fi
cd "$root"
if [ ! -d .device ]; then
  [ -f .device.txz ] || { echo "device-check: neither .device nor .device.txz here; carry .device.txz" >&2; exit 2; }
  xz -dc .device.txz | tar xf -
fi
timeout "${TESTS_TIMEOUT:-240}" bash .device/run-tests.sh --include-tag gpu > "$out/gpu-tests.txt" 2>&1
tests=$?
tail -25 "$out/gpu-tests.txt"
timeout "${BENCH_TIMEOUT:-240}" bash benchmarks/gpu/run-gpu.sh "$out" "$@" > "$out/gpu-benchmark.txt" 2>&1 \
  || echo "device-check: the GPU benchmark stopped early (status $?); see gpu-benchmark.txt" >&2
if [ "$jmh" = 1 ]; then
  timeout "${JMH_TIMEOUT:-240}" bash benchmarks/gpu/run-jmh-gpu.sh "$out" > /dev/null 2>&1 \
    || echo "device-check: the JMH benchmark stopped early (status $?); see jmh-cuda.txt" >&2
fi
tar czf "$dest/device-check.tgz" -C "$out" .
cp "$out/gpu-tests.txt" "$dest/"
exit "$tests"
