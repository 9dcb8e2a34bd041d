#!/usr/bin/env bash
# The CUDA emulator's self-test (cuda/emu/README.md, "Self-test"): builds the emulator with the
# self-test's kernels (cuda/emu/selftest/*.cu) in place of rnnrt's, and a driver that calls the
# emulated driver API and cuBLAS directly; each case checks that one of the emulator's checks
# refuses a misuse with the exact error and "cuda-emu:" line, and lets its correct twin through.
# Ends with "N passed, M failed"; exits non-zero on any failure. Takes seconds.
#
# Usage: bash cuda/emu/selftest.sh [CASE...]     only these cases (selftest --list names them)
#        bash cuda/emu/selftest.sh --mutants     also breaks each check in a copy of the emulator
#                                                and requires the cases to catch it (minutes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/cuda-emu-selftest"
CXX="${CXX:-g++}"

mutants=false
if [ "${1:-}" = "--mutants" ]; then
  mutants=true
  shift
fi

mkdir -p "$out"
bash "$here/build.sh" "$out/emu" "$here/selftest"
"$CXX" -O1 -g -std=c++17 -Wall -o "$out/selftest" "$here/selftest/selftest.cpp" \
  -L "$out/emu" -l:libcuda.so.1 -l:libcublas.so.12

# every case runs under a time limit of its own; this one is for the run as a whole
status=0
LD_LIBRARY_PATH="$out/emu" timeout 300 "$out/selftest" "$@" || status=$?
if ! $mutants; then
  exit $status
fi
