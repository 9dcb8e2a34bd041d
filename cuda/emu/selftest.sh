#!/usr/bin/env bash
# The CUDA emulator's self-test (cuda/emu/README.md, "Self-test"): builds the emulator with the
# self-test's kernels (cuda/emu/selftest/*.cu) in place of rnnrt's, and a driver that calls the
# emulated driver API and cuBLAS directly; each case checks that one of the emulator's checks
# refuses a misuse with the exact error and "cuda-emu:" line, and lets its correct twin through.
# Ends with "N passed, M failed"; exits non-zero on any failure. Takes seconds.
#
# Usage: bash cuda/emu/selftest.sh [CASE...]           only these cases (--list names them)
#        bash cuda/emu/selftest.sh --mutants [NAME...]  then the mutants of selftest/mutants.txt:
#            each breaks one check in a copy of the emulator, which the cases must catch (minutes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/cuda-emu-selftest"
CXX="${CXX:-g++}"

mutants=false
case_args=("$@")
if [ "${1:-}" = "--mutants" ]; then
  mutants=true
  shift
  case_args=()
fi

mkdir -p "$out"
bash "$here/build.sh" "$out/emu" "$here/selftest"
"$CXX" -O1 -g -std=c++17 -Wall -o "$out/selftest" "$here/selftest/selftest.cpp" \
  -L "$out/emu" -l:libcuda.so.1 -l:libcublas.so.12

# every case runs under a time limit of its own; this one is for the run as a whole
status=0
LD_LIBRARY_PATH="$out/emu" timeout 300 "$out/selftest" ${case_args[@]+"${case_args[@]}"} || status=$?
if ! $mutants || [ $status != 0 ]; then
  exit $status
fi

# Mutants: each record of mutants.txt applied to a copy of the emulator's sources, built with the
# self-test's kernels; the cases (without the controls) must fail.
caught=0
missed=0
run_mutant() {  # name file from to
  local name="$1" file="$2" dir="$out/mutants/$1"
  rm -rf "$dir" && mkdir -p "$dir/emu"
  cp "$here"/*.cpp "$here"/*.h "$here/build.sh" "$dir/emu/"
  if ! FROM="$3" TO="$4" perl -0pi -e '$n = s/\Q$ENV{FROM}\E/$ENV{TO}/g; END { exit($n == 1 ? 0 : 1) }' \
      "$dir/emu/$file"; then
    echo "FAIL mutant $name: its text is not found exactly once in $file (update mutants.txt)"
    missed=$((missed + 1))
    return
  fi
  if ! bash "$dir/emu/build.sh" "$dir/out" "$here/selftest" > "$dir/build.log" 2>&1; then
    echo "FAIL mutant $name: it does not build (see $dir/build.log)"
    missed=$((missed + 1))
    return
  fi
  local report failed
  report="$(LD_LIBRARY_PATH="$dir/out" timeout 300 "$out/selftest" --no-controls 2>&1)" || true  # (must fail)
  failed="$(sed -n 's/^FAIL //p' <<< "$report" | tr '\n' ' ')"
  if [ -n "$failed" ]; then
    echo "ok   mutant $name: caught by $failed"
    caught=$((caught + 1))
  else
    echo "FAIL mutant $name: every case passed with this check broken"
    missed=$((missed + 1))
  fi
}
name="" file="" from="" names=" "
while IFS= read -r line; do
  case "$line" in
    "= "*) name="${line#= }"; name="${name%%:*}"; names="$names$name " ;;
    "@ "*) file="${line#@ }" ;;
    "- "*) from="${line#- }" ;;
    "+ "*)
      if [ $# = 0 ] || [[ " $* " == *" $name "* ]]; then
        run_mutant "$name" "$file" "$from" "${line#+ }"
      fi ;;
  esac
done < "$here/selftest/mutants.txt"
for wanted in "$@"; do
  if [[ "$names" != *" $wanted "* ]]; then
    echo "FAIL mutant $wanted: not in mutants.txt"
    missed=$((missed + 1))
  fi
done
echo "cuda-emu self-test mutants: $caught caught, $missed not caught"
[ $missed = 0 ] && [ $caught -gt 0 ]
