#!/usr/bin/env bash
# Adds the JMH suite's CUDA benchmark (dev.rnnrt.benchmarks.CudaBenchmark) to the .device folder
# made by ../shared/device/pack-java.sh, so that gpu/run-jmh-gpu.sh can run it with JMH's GC
# profiler on a GPU machine (which has no Java, no Maven and no network). Run it here, after
# pack-java.sh; it adds JMH's three jars and the benchmark classes (no ONNX Runtime, no Python
# needed there), and adds module jdk.management to the packed runtime: JMH's GC profiler reads
# per-thread allocation through com.sun.management.
#
#     bash ../shared/device/pack-java.sh && bash benchmarks/gpu/pack-jmh.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dev="$root/.device"
[ -x "$dev/jre/bin/java" ] || { echo "pack-jmh: no packed runtime in $dev; run bash ../shared/device/pack-java.sh in $root first" >&2; exit 1; }
mvn -q -f "$root/pom.xml" install -DskipTests
rm -rf "$dev/jmh"
mvn -q -f "$root/benchmarks/pom.xml" compile dependency:copy-dependencies \
  -DincludeArtifactIds=jmh-core,jopt-simple,commons-math3 -DoutputDirectory="$dev/jmh/lib"
cp -r "$root/benchmarks/target/classes" "$dev/jmh/classes"
if ! "$dev/jre/bin/java" --list-modules | grep -q '^jdk\.management@'; then
  mods=$(sed -n 's/^MODULES="\(.*\)"$/\1/p' "$dev/jre/release" | tr ' ' ',')
  [ -n "$mods" ] || { echo "pack-jmh: cannot read the packed runtime's modules from $dev/jre/release" >&2; exit 1; }
  rm -rf "$dev/jre.new"
  jlink --add-modules "$mods,jdk.management" --compress=2 --strip-debug --no-header-files --no-man-pages \
    --output "$dev/jre.new"
  rm -rf "$dev/jre" && mv "$dev/jre.new" "$dev/jre"
fi
du -sh "$dev" >&2
