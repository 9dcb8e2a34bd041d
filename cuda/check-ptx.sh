#!/usr/bin/env bash
# Fails when the committed PTX differs from what nvcc builds from cuda/*.cu now. Without nvcc it
# says so and passes: the committed PTX is then what ships.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
committed="$here/../src/main/resources/dev/rnnrt/cuda"
if ! command -v nvcc >/dev/null 2>&1; then
  echo "check-ptx: nvcc not found; not checking that the committed PTX is current" >&2
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bash "$here/build-ptx.sh" "$tmp/a"
# A second build must give the same bytes, or the staleness check below would be meaningless.
bash "$here/build-ptx.sh" "$tmp/b"
if ! diff -r "$tmp/a" "$tmp/b" >/dev/null; then
  echo "check-ptx: two nvcc builds of cuda/*.cu differ; the PTX is not deterministic" >&2
  exit 1
fi
status=0
for f in "$tmp"/a/*.ptx; do
  name="$(basename "$f")"
  if ! cmp -s "$f" "$committed/$name"; then
    echo "check-ptx: $name is stale or missing; run cuda/build-ptx.sh and commit the result" >&2
    status=1
  fi
done
for f in "$committed"/*.ptx; do
  if [ ! -e "$tmp/a/$(basename "$f")" ]; then
    echo "check-ptx: $(basename "$f") is committed but no cuda/*.cu builds it; remove it" >&2
    status=1
  fi
done
if [ "$status" = 0 ]; then
  echo "check-ptx: the committed PTX is what $(nvcc --version | tail -1) builds from cuda/*.cu" >&2
fi
exit $status
