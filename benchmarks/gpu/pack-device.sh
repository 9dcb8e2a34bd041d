#!/usr/bin/env bash
# Packs everything a GPU run needs into ONE compressed file, .device.txz, to move to a GPU machine
# without a JDK (at most 64 MiB; the unpacked .device folder is about 75 MiB, the archive about 45).
# Here, on the build machine:
#
#     bash benchmarks/gpu/pack-device.sh          # the GPU tests and GpuBenchmark
#     bash benchmarks/gpu/pack-device.sh --jmh    # and the JMH CUDA benchmark (gpu/pack-jmh.sh)
#
# then carry .device.txz (not .device) and run benchmarks/gpu/device-check.sh there, which
# unpacks it. The Keras files of the test resources are left out: only CPU tests read them.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
bash ../shared/device/pack-java.sh
if [ "${1:-}" = "--jmh" ]; then
  bash benchmarks/gpu/pack-jmh.sh
fi
rm -rf .device/test-classes/keras
rm -f .device.txz
tar cf - .device | xz -T0 -6 > .device.txz
tree_mib=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | awk '{print int($1 / 1048576)}')
pack_mib=$(du -b .device.txz | awk '{print int($1 / 1048576)}')
echo "pack-device: .device.txz is $pack_mib MiB; with the $tree_mib MiB working tree $((pack_mib + tree_mib)) MiB travel (limit 64)" >&2
if [ $((pack_mib + tree_mib)) -ge 64 ]; then
  echo "pack-device: larger than 64 MiB" >&2
  exit 1
fi
