#!/usr/bin/env bash
# The GPU benchmark, on a GPU machine with the project packed into .device by
# ../shared/device/pack-java.sh (or any JDK 17 with the test classpath): rnnrt's CUDA backend
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
bash "$root/.device/java.sh" -cp "$(cat "$root/.device/classpath")" dev.rnnrt.backend.cuda.GpuBenchmark \
  "$out" "$cases" "$@"
python3 "$root/benchmarks/gpu/torch_cudnn.py" "$cases" "$out/cudnn.csv"
