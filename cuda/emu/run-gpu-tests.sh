#!/usr/bin/env bash
# Runs rnnrt's GPU-tagged tests on the CUDA emulator (cuda/emu/README.md): runs the emulator's
# self-test (selftest.sh), builds it, puts its libcuda.so.1 and libcublas.so.12 first on
# LD_LIBRARY_PATH (the forked test JVM inherits it), and runs `mvn test -Dgroups=gpu` without
# rebuilding the PTX. Extra arguments go to mvn.
# Fails when any test fails or is skipped: a skipped GPU test here means the probe did not see the
# emulated device, and the run checked nothing.
#
# Usage: bash cuda/emu/run-gpu-tests.sh [extra mvn args]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/cuda-emu"

# Tests that cannot be meaningful on a CPU stand-in, each with its reason:
excluded=(
  # B up to 256, T up to 512, H up to 1024, in fp32 and TF32, on the emulator's one core: hours.
  # Its other two cases (medium shapes, fused steps up to their largest batch) do run.
  'RecurrentCudaLargeTest#largeShapesAgainstTheFastCpuPath'
  # needs 17.2 GB of device memory (a product of 2^31 rows); the emulated device has 4 GiB, so it
  # skips itself, which this script would count as a failure to see the device
  'RecurrentCudaSgemmTest#aProductOfNearly2To31RowsRunsToItsLastRow'
)
# (GpuBenchmark, the GPU benchmark program, is not a test and never runs here.)

# first the emulator's own checks (seconds): a check that refuses nothing would let every test pass
bash "$here/selftest.sh"
bash "$here/build.sh" "$out"
export LD_LIBRARY_PATH="$out${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

filter=""
for e in "${excluded[@]}"; do
  filter="${filter:+$filter,}!$e"
done
rm -rf "$root/target/surefire-reports"
status=0
(cd "$root" && mvn test -Drnnrt.ptx.skip=true -Dgroups=gpu "-Dtest=$filter" \
  -Dsurefire.failIfNoSpecifiedTests=false "$@") || status=$?

# counts from surefire's reports of this run
read -r run skipped failed errors < <(cat "$root"/target/surefire-reports/TEST-*.xml 2>/dev/null |
  perl -ne 'if (/<testsuite [^>]*>/) { my $h = $&; for my $k (qw(tests skipped failures errors)) {
              $n{$k} += $1 if $h =~ / $k="(\d+)"/ } }
            END { printf "%d %d %d %d\n", $n{tests}, $n{skipped}, $n{failures}, $n{errors} }')
echo "cuda-emu: GPU tests on the emulator: $run run, $skipped skipped, $failed failed, $errors errors" \
  "(excluded: ${excluded[*]})"
if [ "$run" = 0 ] || [ "$skipped" != 0 ]; then
  echo "cuda-emu: tests were skipped or none ran: the probe did not see the emulated device" >&2
  exit 1
fi
exit $status
