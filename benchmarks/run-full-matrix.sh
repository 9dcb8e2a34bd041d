#!/usr/bin/env bash
# The whole matrix (LSTM and GRU; units = input in {128, 512, 1024}; batch in {1, 16, 128}; time
# in {32, 256}) for the fast CPU path and ONNX Runtime in one JMH run (GC profiler on), then
# PyTorch on every case. The CPU reference takes minutes per call on most of it: its rows are in
# run-key-shapes.sh. Same needs as run-key-shapes.sh; writes target/results-full.
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -f ../pom.xml install -DskipTests
mvn -q clean package
out=target/results-full
mkdir -p "$out"
java -jar target/benchmarks.jar RecurrentBenchmark -p backend=cpu,onnxruntime -wi 2 -w 2 -i 5 -r 2 -foe true \
  -prof gc -rf json -rff "$out/jmh-full.json"
OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 peers/torch_bench.py target/cases > "$out/torch.json"
