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
bash "$here/build-ptx.sh" "$tmp"
status=0
for f in "$tmp"/*.ptx; do
  name="$(basename "$f")"
  if ! cmp -s "$f" "$committed/$name"; then
    echo "check-ptx: $name is stale or missing; run cuda/build-ptx.sh and commit the result" >&2
    status=1
  fi
done
exit $status
