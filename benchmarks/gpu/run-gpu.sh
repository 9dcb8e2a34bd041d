#!/usr/bin/env bash
# The GPU benchmark, on a GPU machine: with the project packed into .device (see README, GPU), or
# with a JDK 17 and Maven after `mvn test-compile` (the test classpath from Maven): rnnrt's CUDA backend
# (fp32/TF32, stream/graph, and whole forward calls), then PyTorch/cuDNN on the same weights and
# inputs, checked equal before timing. Writes CSVs to OUT_DIR; make_gpu_table.py turns them into
# the results table.
#
#     bash benchmarks/gpu/run-gpu.sh OUT_DIR [units,..] [batches,..] [times,..]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
shift
cases=$(mktemp -d)
trap 'rm -rf "$cases"' EXIT
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version())'
} > "$out/env.txt"
if [[ -f "$root/.device/java.sh" ]]; then
  java=(bash "$root/.device/java.sh")
  classpath=$(cat "$root/.device/classpath")
else
  (cd "$root" && mvn -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cases/cp.txt")
  java=(java --add-modules jdk.incubator.vector)
  classpath="$root/target/classes:$root/target/test-classes:$(cat "$cases/cp.txt")"
fi
"${java[@]}" -cp "$classpath" dev.rnnrt.backend.cuda.GpuBenchmark "$out" "$cases" "$@"
python3 "$root/benchmarks/gpu/torch_cudnn.py" "$cases" "$out/cudnn.csv"
