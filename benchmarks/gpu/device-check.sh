#!/usr/bin/env bash
# On a GPU machine, in the project root, with .device.txz carried (gpu/pack-device.sh): unpacks
# it, then runs
#   1. the GPU test suite (every @Tag("gpu") test)          -> gpu-tests.txt
#   2. the GPU benchmark and PyTorch/cuDNN (gpu/run-gpu.sh)  -> *.csv, env.txt, gpu-benchmark.txt
#   3. with --jmh, the JMH CUDA benchmark (gpu/run-jmh-gpu.sh) -> jmh-cuda.json, jmh-cuda.txt,
#                                                               jmh-cuda-stderr.txt
# and keeps going when one part fails, so that one run brings back all it can. Each part has a time
# limit of its own (TESTS_TIMEOUT, BENCH_TIMEOUT, JMH_TIMEOUT seconds) and all of them together
# one more (TOTAL_TIMEOUT, default 540 s, under a device call's 600): a part gets what is left of
# the total when that is less than its own limit, and is left out when that is under 30 s (a part
# whose own limit is under 30 s runs with it while the total allows).
# Everything goes into one file, OUT_DIR/device-check.tgz, rewritten after each part, so that a run
# cut short from outside still brings back the parts that finished; the test log also lies beside
# it. Exit status: that of the tests.
#
#     bash benchmarks/gpu/device-check.sh OUT_DIR [--jmh] [units,..] [batches,..] [times,..]
set -uo pipefail
if [ $# -lt 1 ] || [ -z "$1" ] || [ "$1" = "--jmh" ]; then
  echo "usage: bash benchmarks/gpu/device-check.sh OUT_DIR [--jmh] [units,..] [batches,..] [times,..]" >&2
  exit 2
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mkdir -p "$1" && cd "$1" && pwd)
shift
out=$(mktemp -d)
jmh=0
if [ "${1:-}" = "--jmh" ]; then
  jmh=1
  shift
fi
deadline=$((SECONDS + ${TOTAL_TIMEOUT:-540}))

# the seconds part $1 may run: its own limit $2, or what is left of the total if less
limit() {
  local left=$((deadline - SECONDS))
  local t=$2
  [ "$left" -lt "$t" ] && t=$left
  if [ "$t" -lt 30 ] && [ "$t" -lt "$2" ]; then
    echo "device-check: $1 left out, ${left} s of TOTAL_TIMEOUT left" | tee -a "$out/device-check.txt" >&2
    echo 0
  else
    echo "$t"
  fi
}

save() {
  tar czf "$dest/device-check.tgz.part" -C "$out" . && mv -f "$dest/device-check.tgz.part" "$dest/device-check.tgz"
}

cd "$root"
if [ ! -d .device ]; then
  [ -f .device.txz ] || { echo "device-check: neither .device nor .device.txz here; carry .device.txz" >&2; exit 2; }
  xz -dc .device.txz | tar xf -
fi
tests=124
t=$(limit "the GPU tests" "${TESTS_TIMEOUT:-240}")
if [ "$t" -gt 0 ]; then
  timeout "$t" bash .device/run-tests.sh --include-tag gpu > "$out/gpu-tests.txt" 2>&1
  tests=$?
  [ "$tests" = 124 ] && echo "device-check: the GPU tests ran past ${t} s" | tee -a "$out/device-check.txt" >&2
  tail -25 "$out/gpu-tests.txt"
  cp "$out/gpu-tests.txt" "$dest/"
fi
save
t=$(limit "the GPU benchmark" "${BENCH_TIMEOUT:-240}")
if [ "$t" -gt 0 ]; then
  timeout "$t" bash benchmarks/gpu/run-gpu.sh "$out" "$@" > "$out/gpu-benchmark.txt" 2>&1 \
    || echo "device-check: the GPU benchmark stopped early (status $?); see gpu-benchmark.txt" \
       | tee -a "$out/device-check.txt" >&2
  save
fi
if [ "$jmh" = 1 ]; then
  t=$(limit "the JMH benchmark" "${JMH_TIMEOUT:-240}")
  if [ "$t" -gt 0 ]; then
    timeout "$t" bash benchmarks/gpu/run-jmh-gpu.sh "$out" > /dev/null 2> "$out/jmh-cuda-stderr.txt" \
      || echo "device-check: the JMH benchmark stopped early (status $?); see jmh-cuda.txt and jmh-cuda-stderr.txt" \
         | tee -a "$out/device-check.txt" >&2
  fi
fi
save
exit "$tests"
