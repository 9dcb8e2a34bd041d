#!/usr/bin/env bash
# On a GPU machine: the JMH suite's CUDA benchmark with the GC profiler, through the runtime
# packed in .device (pack-java.sh, then benchmarks/gpu/pack-jmh.sh, on the build machine).
# Backends cuda, cuda-tf32 and cpu (the baseline) in one run; JSON and text to OUT_DIR.
# Extra arguments go to JMH instead of the default selection below (H = 512, B in {1, 128},
# T in {32, 256}, LSTM and GRU: about 4 minutes).
#
#     bash benchmarks/gpu/run-jmh-gpu.sh OUT_DIR [JMH options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
shift
[ -d "$root/.device/jmh/classes" ] || { echo "run-jmh-gpu: .device has no JMH; run benchmarks/gpu/pack-jmh.sh on the build machine first" >&2; exit 1; }
# java.sh runs in .device: the classpath is relative to it
cp="$(cat "$root/.device/classpath"):jmh/classes"
for j in "$root"/.device/jmh/lib/*.jar; do cp="$cp:jmh/lib/$(basename "$j")"; done
if [ $# -eq 0 ]; then
  set -- -p units=512 -p batch=1,128 -p time=32,256 -wi 2 -w 1 -i 3 -r 1
fi
bash "$root/.device/java.sh" -cp "$cp" org.openjdk.jmh.Main CudaBenchmark -foe true -prof gc \
  -rf json -rff "$out/jmh-cuda.json" "$@" | tee "$out/jmh-cuda.txt"
