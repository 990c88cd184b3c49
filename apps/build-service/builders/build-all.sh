#!/bin/sh
# Builds every S2I builder image: runs each <builder>/build-image.sh in turn
# (each is idempotent, so this is quick when nothing changed). Called by
# `npm run up`. Runs them all, then exits non-zero if any failed.
set -eu
cd "$(dirname "$0")"

failed=
for script in */build-image.sh; do
  [ -f "$script" ] || continue # no builder at all: the glob stayed literal
  sh "$script" || failed="$failed ${script%%/*}"
done
if [ -n "$failed" ]; then
  echo "✗ builder images failed:$failed" >&2
  exit 1
fi
