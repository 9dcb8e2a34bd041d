#!/usr/bin/env bash
# The benchmark run behind benchmarks/results: rnnrt's backends and ONNX Runtime in one JMH run
# (GC profiler on), then PyTorch on the same weights and inputs. Needs python3-numpy,
# python3-onnx and python3-torch (Debian) and libopenblas0-pthread for torch's BLAS.
set -euo pipefail
cd "$(dirname "$0")"
mvn -q -f ../pom.xml install -DskipTests
mvn -q clean package
out=target/results
mkdir -p "$out"
run() { java -jar target/benchmarks.jar RecurrentBenchmark "$@" -wi 2 -w 2 -i 5 -r 2 -foe true -prof gc -rf json -rff "$out/jmh-$RANDOM.json"; }
run -p cell=LSTM,GRU -p units=128 -p batch=16 -p time=32 -p backend=cpu,onnxruntime,cpu-reference
run -p cell=LSTM,GRU -p units=512 -p batch=1,16,128 -p time=32 -p backend=cpu,onnxruntime
run -p cell=LSTM,GRU -p units=512 -p batch=1 -p time=256 -p backend=cpu,onnxruntime
OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 peers/torch_bench.py target/cases > "$out/torch.json"
